import { Field, Input, Spinner, Stack, Text } from "@chakra-ui/react";
import { useEffect, useMemo, useState } from "react";

import { type Draft, tunnelOf } from "./draft";
import { linkApi } from "./linkApi";
import { MethodNotes } from "./MethodNotes";
import { suggestTable, syncedName } from "./tableDefaults";
import { TableRow } from "./TableRow";
import { takenNames } from "./takenNames";
import type { CatalogTable, TableConfig } from "./types";

interface Props {
  draft: Draft;
  errors: Record<string, string>;
  onChange: (patch: Partial<Draft>) => void;
}

const unlisted = (name: string): CatalogTable => ({ columns: [], name, primary_key: [], rows_estimate: null });

/** Step 3: the source's catalog; pick tables, a method and keys for each, see their synced names. */
export const TablesStep = ({ draft, errors, onChange }: Props) => {
  const [catalog, setCatalog] = useState<CatalogTable[] | null>(null);
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [taken, setTaken] = useState<Map<string, string>>(new Map());
  const [filter, setFilter] = useState("");

  useEffect(() => {
    linkApi.tables(draft.connId, draft.kind, tunnelOf(draft)).then(
      (answer) => {
        setCatalog(answer.tables);
        setTruncated(answer.truncated === true);
      },
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
    );
    takenNames(draft.editing).then(setTaken, () => undefined);
  }, [draft.connId, draft.kind, draft.editing]);

  const rows = useMemo(() => {
    const listed = catalog ?? [];
    const gone = draft.tables.filter((t) => !listed.some((c) => c.name === t.name)).map((t) => unlisted(t.name));
    return [...listed, ...gone].filter((t) => t.name.toLowerCase().includes(filter.toLowerCase()));
  }, [catalog, draft.tables, filter]);

  const chosen = draft.tables.map((t) => syncedName(draft.prefix, t.name));
  const clash = (synced: string): string | null =>
    taken.has(synced) ? `taken by source ${taken.get(synced)}` : chosen.filter((n) => n === synced).length > 1 ? "two tables get this name" : null;
  const toggle = (table: CatalogTable, on: boolean) =>
    onChange({ tables: on ? [...draft.tables, suggestTable(table)] : draft.tables.filter((t) => t.name !== table.name) });
  const update = (name: string, patch: Partial<TableConfig>) =>
    onChange({ tables: draft.tables.map((t) => (t.name === name ? { ...t, ...patch } : t)) });
  const tableErrors = (name: string): Record<string, string> => {
    const index = draft.tables.findIndex((t) => t.name === name);
    const prefix = `tables.${index}`;
    return Object.fromEntries(
      Object.entries(errors).filter(([k]) => index >= 0 && (k === prefix || k.startsWith(`${prefix}.`))).map(([k, v]) => [k.slice(prefix.length + 1), v]),
    );
  };

  if (error) return <Text color="fg.error" role="alert">Could not read the catalog: {error}</Text>;
  if (!catalog) return <Spinner aria-label="reading the catalog" />;
  return (
    <Stack gap={3}>
      <Stack direction={{ base: "column", md: "row" }} gap={4}>
        <Field.Root invalid={Boolean(errors.table_prefix)}>
          <Field.Label htmlFor="table-prefix">Table prefix</Field.Label>
          <Input id="table-prefix" onChange={(e) => onChange({ prefix: e.currentTarget.value })} size="sm" value={draft.prefix} />
          <Field.HelperText>Synced table name = prefix + table name (schema dropped).</Field.HelperText>
          {errors.table_prefix ? <Field.ErrorText>{errors.table_prefix}</Field.ErrorText> : null}
        </Field.Root>
        <Field.Root>
          <Field.Label htmlFor="table-filter">Find a table</Field.Label>
          <Input id="table-filter" onChange={(e) => setFilter(e.currentTarget.value)} placeholder="name contains" size="sm" value={filter} />
          <Field.HelperText>
            {catalog.length} tables{truncated ? " (more exist: the list is cut)" : ""}, {draft.tables.length} chosen
          </Field.HelperText>
        </Field.Root>
      </Stack>
      <Stack gap={0}>
        {rows.map((table) => (
          <TableRow
            choice={draft.tables.find((t) => t.name === table.name)}
            clash={draft.tables.some((t) => t.name === table.name) ? clash(syncedName(draft.prefix, table.name)) : null}
            errors={tableErrors(table.name)}
            key={table.name}
            onChoice={(patch) => update(table.name, patch)}
            onToggle={(on) => toggle(table, on)}
            synced={syncedName(draft.prefix, table.name)}
            table={table}
          />
        ))}
      </Stack>
      <MethodNotes tables={draft.tables} />
    </Stack>
  );
};
