import { Badge, Box, Button, Code, Field, HStack, Input, SimpleGrid, Text } from "@chakra-ui/react";

import { ColumnListInput } from "./ColumnListInput";
import { SmallSelect } from "./SmallSelect";
import { METHOD_LABEL } from "./tableDefaults";
import { type CatalogTable, METHODS, type Method, type TableConfig } from "./types";

export const FORMATS = ["parquet", "csv", "jsonl", "delta"];

interface Props {
  index: number;
  table: TableConfig;
  synced: string;
  clash: string | null;
  errors: Record<string, string>;
  preview: CatalogTable | string | null; // the files and columns, or why they could not be listed
  onChange: (patch: Partial<TableConfig>) => void;
  onPreview: () => void;
  onRemove: () => void;
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** A bucket table: a name, a pattern under the url and a format; its files and columns on demand. */
export const BucketTableRow = ({ index, table, synced, clash, errors, preview, onChange, onPreview, onRemove }: Props) => {
  const id = `b-${index}`;
  const columns = typeof preview === "object" && preview ? preview.columns : [];
  const edit = (key: string, label: string, placeholder = "") => (
    <Field.Root invalid={Boolean(errors[key])}>
      <Field.Label htmlFor={`${id}-${key}`}>{label}</Field.Label>
      <Input fontFamily="mono" id={`${id}-${key}`} onChange={(e) => onChange({ [key]: e.currentTarget.value })} placeholder={placeholder} size="sm" value={text(table[key])} />
      {errors[key] ? <Field.ErrorText>{errors[key]}</Field.ErrorText> : null}
    </Field.Root>
  );
  return (
    <Box borderTopWidth="1px" data-testid={`bucket-table-${index}`} py={3}>
      <SimpleGrid columns={{ base: 1, md: 3 }} gap={3}>
        {edit("name", "Table name", "invoices")}
        {edit("pattern", "Pattern under the url", "invoices/*.parquet")}
        <Field.Root>
          <Field.Label htmlFor={`${id}-format`}>Format</Field.Label>
          <SmallSelect id={`${id}-format`} onChange={(v) => onChange({ format: v })} value={text(table.format) || "parquet"}>
            {FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
          </SmallSelect>
        </Field.Root>
        <Field.Root invalid={Boolean(errors.sync)}>
          <Field.Label htmlFor={`${id}-sync`}>Sync method</Field.Label>
          <SmallSelect id={`${id}-sync`} onChange={(v) => onChange({ sync: v as Method })} value={table.sync}>
            {METHODS.map((m) => <option key={m} value={m}>{METHOD_LABEL[m]}</option>)}
          </SmallSelect>
          {errors.sync ? <Field.ErrorText>{errors.sync}</Field.ErrorText> : null}
        </Field.Root>
        <Field.Root disabled={table.sync === "full_table"} invalid={Boolean(errors.replication_key)}>
          <Field.Label htmlFor={`${id}-key`}>Replication key</Field.Label>
          <SmallSelect disabled={table.sync === "full_table"} id={`${id}-key`} onChange={(v) => onChange({ replication_key: v })} value={table.sync === "full_table" ? "" : (table.replication_key ?? "")}>
            <option value="">{table.sync === "append_only" ? "none: load files not loaded yet" : "choose a column (show the files first)"}</option>
            {columns.map((c) => (
              <option disabled={!c.replication_key} key={c.name} value={c.name}>
                {c.name} ({c.type}){c.replication_key ? "" : `: ${c.reason ?? "not allowed"}`}
              </option>
            ))}
          </SmallSelect>
          {errors.replication_key ? <Field.ErrorText>{errors.replication_key}</Field.ErrorText> : null}
        </Field.Root>
        <Field.Root invalid={Boolean(errors.primary_key)}>
          <Field.Label htmlFor={`${id}-pk`}>Primary key</Field.Label>
          <ColumnListInput columns={table.primary_key ?? []} id={`${id}-pk`} onChange={(primary_key) => onChange({ primary_key })} placeholder={table.sync === "incremental" ? "required: column, column" : "optional"} />
          {errors.primary_key ? <Field.ErrorText>{errors.primary_key}</Field.ErrorText> : null}
        </Field.Root>
      </SimpleGrid>
      <HStack gap={2} mt={2} wrap="wrap">
        <Button disabled={!text(table.pattern)} onClick={onPreview} size="xs" variant="outline">Show files</Button>
        <Button colorPalette="red" onClick={onRemove} size="xs" variant="ghost">Remove</Button>
        <Text color="fg.muted" fontSize="xs">→</Text>
        <Code size="sm">{synced}</Code>
        {clash ? <Badge colorPalette="red" data-testid="clash" size="sm">{clash}</Badge> : null}
      </HStack>
      {errors[""] ? <Text color="fg.error" fontSize="sm" mt={1}>{errors[""]}</Text> : null}
      {typeof preview === "string" ? <Text color="fg.error" fontSize="sm" mt={1}>{preview}</Text> : null}
      {preview && typeof preview === "object" ? (
        <Text color="fg.muted" fontSize="xs" mt={1} wordBreak="break-all">
          {preview.files?.length ?? 0} {preview.files?.length === 1 ? "file" : "files"}{preview.files?.length ? `: ${preview.files.slice(0, 5).join(", ")}${preview.files.length > 5 ? ", …" : ""}` : ""}; columns{" "}
          {preview.columns.map((c) => `${c.name} ${c.type}`).join(", ") || "none"}
        </Text>
      ) : null}
    </Box>
  );
};
