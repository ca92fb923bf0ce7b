import { Button, Field, Input, Stack, Text } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import { BucketTableRow } from "./BucketTableRow";
import { type Draft, urlOf } from "./draft";
import { linkApi } from "./linkApi";
import { MethodNotes } from "./MethodNotes";
import { syncedName } from "./tableDefaults";
import { takenNames } from "./takenNames";
import type { CatalogTable, TableConfig } from "./types";

interface Props {
  draft: Draft;
  errors: Record<string, string>;
  onChange: (patch: Partial<Draft>) => void;
}

const blank = (): TableConfig => ({ format: "parquet", name: "", pattern: "", sync: "append_only" });

/** Step 3 for a bucket: tables are file patterns under the url; each one's files and columns on demand. */
export const BucketTablesStep = ({ draft, errors, onChange }: Props) => {
  const [previews, setPreviews] = useState<Record<number, CatalogTable | string>>({});
  const [taken, setTaken] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    takenNames(draft.editing).then(setTaken, () => undefined);
    if (!draft.tables.length) onChange({ tables: [blank()] });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const url = urlOf(draft) ?? "";
  const names = draft.tables.map((t) => syncedName(draft.prefix, t.name));
  const clash = (synced: string) =>
    taken.has(synced) ? `taken by source ${taken.get(synced)}` : names.filter((n) => n === synced).length > 1 ? "two tables get this name" : null;
  const update = (i: number, patch: Partial<TableConfig>) => onChange({ tables: draft.tables.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  const preview = (i: number) => {
    const t = draft.tables[i];
    linkApi.files(draft.connId, draft.kind, url, String(t.pattern), String(t.format ?? "parquet")).then(
      (answer) => setPreviews((p) => ({ ...p, [i]: answer.tables[0] ?? "no files match" })),
      (e: unknown) => setPreviews((p) => ({ ...p, [i]: e instanceof Error ? e.message : String(e) })),
    );
  };
  const scoped = (i: number) => {
    const place = `tables.${i}`;
    const mine = Object.entries(errors).filter(([k]) => k === place || k.startsWith(`${place}.`));
    return Object.fromEntries(mine.map(([k, v]) => [k.slice(place.length + 1), v])); // "" = the table as a whole
  };

  return (
    <Stack gap={3}>
      <Text fontSize="sm">
        Files under <Text as="span" fontFamily="mono">{url || "(no url: set it in the Connection step)"}</Text>
      </Text>
      <Field.Root invalid={Boolean(errors.table_prefix)}>
        <Field.Label htmlFor="table-prefix">Table prefix</Field.Label>
        <Input id="table-prefix" onChange={(e) => onChange({ prefix: e.currentTarget.value })} size="sm" value={draft.prefix} />
        <Field.HelperText>Synced table name = prefix + table name.</Field.HelperText>
      </Field.Root>
      <Stack gap={0}>
        {draft.tables.map((table, i) => (
          <BucketTableRow
            clash={table.name ? clash(names[i]) : null}
            errors={scoped(i)}
            index={i}
            key={i}
            onChange={(patch) => update(i, patch)}
            onPreview={() => preview(i)}
            onRemove={() => onChange({ tables: draft.tables.filter((_, j) => j !== i) })}
            preview={previews[i] ?? null}
            synced={names[i]}
            table={table}
          />
        ))}
      </Stack>
      <Button alignSelf="start" onClick={() => onChange({ tables: [...draft.tables, blank()] })} size="sm" variant="outline">
        Add a table
      </Button>
      <MethodNotes tables={draft.tables} />
    </Stack>
  );
};
