import { Badge, Box, Checkbox, Code, Field, HStack, SimpleGrid, Stack, Text } from "@chakra-ui/react";

import { count } from "../format";
import { ColumnListInput } from "./ColumnListInput";
import { SmallSelect } from "./SmallSelect";
import { METHOD_LABEL, suggestKey } from "./tableDefaults";
import { type CatalogTable, METHODS, type Method, type TableConfig } from "./types";

interface Props {
  table: CatalogTable;
  choice: TableConfig | undefined;
  synced: string;
  clash: string | null;
  errors: Record<string, string>; // this table's 422 errors by field (replication_key, primary_key, sync, "")
  onToggle: (chosen: boolean) => void;
  onChoice: (patch: Partial<TableConfig>) => void;
}

/** One catalog table: chosen or not; when chosen its method, replication key and primary key. */
export const TableRow = ({ table, choice, synced, clash, errors, onToggle, onChoice }: Props) => {
  const id = `t-${table.name}`;
  const method = choice?.sync ?? "full_table";
  const full = method === "full_table";
  return (
    <Box borderTopWidth="1px" data-testid={`catalog-${table.name}`} py={3}>
      <Stack align={{ md: "center" }} direction={{ base: "column", md: "row" }} gap={2} justify="space-between">
        <Checkbox.Root checked={choice !== undefined} minW={0} onCheckedChange={(e) => onToggle(e.checked === true)} size="sm">
          <Checkbox.HiddenInput />
          <Checkbox.Control />
          <Checkbox.Label fontWeight="semibold" wordBreak="break-all">
            {table.name}
          </Checkbox.Label>
          {table.type === "view" ? <Badge size="sm">view</Badge> : null}
          {table.rows_estimate !== null && table.rows_estimate >= 0 ? (
            <Text color="fg.muted" fontSize="xs" whiteSpace="nowrap">
              ~{count(table.rows_estimate)} rows
            </Text>
          ) : null}
        </Checkbox.Root>
        <HStack gap={2} minW={0}>
          <Text color="fg.muted" fontSize="xs">→</Text>
          <Code size="sm" wordBreak="break-all">{synced}</Code>
          {clash ? (
            <Badge colorPalette="red" data-testid="clash" size="sm" title={clash}>
              {clash}
            </Badge>
          ) : null}
        </HStack>
      </Stack>
      {choice ? (
        <SimpleGrid columns={{ base: 1, md: 3 }} gap={3} mt={2} ps={{ md: 6 }}>
          <Field.Root invalid={Boolean(errors.sync)}>
            <Field.Label htmlFor={`${id}-sync`}>Sync method</Field.Label>
            <SmallSelect id={`${id}-sync`} onChange={(v) => onChoice({ replication_key: suggestKey(table, v as Method), sync: v as Method })} value={method}>
              {METHODS.map((m) => (
                <option key={m} value={m}>
                  {METHOD_LABEL[m]}
                </option>
              ))}
            </SmallSelect>
            {errors.sync ? <Field.ErrorText>{errors.sync}</Field.ErrorText> : null}
          </Field.Root>
          <Field.Root disabled={full} invalid={Boolean(errors.replication_key)}>
            <Field.Label htmlFor={`${id}-key`}>Replication key</Field.Label>
            <SmallSelect disabled={full} id={`${id}-key`} onChange={(v) => onChoice({ replication_key: v })} value={full ? "" : (choice.replication_key ?? "")}>
              <option value="">{full ? "not needed for a full reload" : "choose a column"}</option>
              {table.columns.map((c) => (
                <option disabled={!c.replication_key} key={c.name} value={c.name}>
                  {c.name} ({c.type}){c.replication_key ? "" : `: ${c.reason ?? "not allowed as a replication key"}`}
                </option>
              ))}
            </SmallSelect>
            {errors.replication_key ? <Field.ErrorText>{errors.replication_key}</Field.ErrorText> : null}
          </Field.Root>
          <Field.Root invalid={Boolean(errors.primary_key)}>
            <Field.Label htmlFor={`${id}-pk`}>Primary key</Field.Label>
            <ColumnListInput
              columns={choice.primary_key ?? []}
              id={`${id}-pk`}
              onChange={(primary_key) => onChoice({ primary_key })}
              placeholder={method === "incremental" ? "required: column, column" : "optional"}
            />
            {errors.primary_key ? <Field.ErrorText>{errors.primary_key}</Field.ErrorText> : null}
          </Field.Root>
          {errors[""] ? <Text color="fg.error" fontSize="sm">{errors[""]}</Text> : null}
        </SimpleGrid>
      ) : null}
    </Box>
  );
};
