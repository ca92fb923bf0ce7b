import type { CatalogColumn, CatalogTable, Method, TableConfig } from "./types";

/** What each method costs and what it misses, said before saving. */
export const METHOD_NOTE: Record<Method, string> = {
  full_table: "Full table reloads every row on every run: simple and deletions follow, but each run reads and writes the whole table.",
  incremental:
    "Incremental reads only rows whose replication key moved past the last run and merges them on the primary key: cheap, but rows deleted in the source stay in the warehouse.",
  append_only:
    "Append only adds the rows past the last run and never merges: the cheapest, but a row whose key changes is appended again (duplicates).",
};

export const METHOD_LABEL: Record<Method, string> = { append_only: "Append only", full_table: "Full table", incremental: "Incremental" };

const TIME = /time|date/i;
const INTEGER = /^(small|big)?int|^integer|^int\d|^(tiny|medium)int|^number\(\d+,\s*0\)/i;

const allowed = (table: CatalogTable): CatalogColumn[] => table.columns.filter((c) => c.replication_key);
const named = (columns: CatalogColumn[], prefix: string): CatalogColumn | undefined =>
  columns.find((c) => TIME.test(c.type) && c.name.toLowerCase().startsWith(prefix));

/** The key people expect: a timestamp named updated* for incremental, created* for append only,
 * else an integer id (the primary key's when it is one), else the first column allowed. */
export const suggestKey = (table: CatalogTable, method: Method): string => {
  const columns = allowed(table);
  const byName = named(columns, method === "append_only" ? "created" : "updated") ?? named(columns, method === "append_only" ? "inserted" : "modified");
  const integers = columns.filter((c) => INTEGER.test(c.type));
  const id = integers.find((c) => table.primary_key.includes(c.name)) ?? integers.find((c) => c.name.toLowerCase() === "id");
  return (byName ?? id ?? integers[0] ?? columns[0])?.name ?? "";
};

/** Incremental where the table has a primary key and an updated* timestamp, else a full reload. */
export const suggestMethod = (table: CatalogTable): Method =>
  table.primary_key.length && named(allowed(table), "updated") ? "incremental" : "full_table";

/** A catalog table's first choice, as the form pre-fills it. */
export const suggestTable = (table: CatalogTable): TableConfig => {
  const sync = suggestMethod(table);
  return { name: table.name, primary_key: table.primary_key, replication_key: suggestKey(table, sync), sync };
};

/** The synced table name: the prefix plus the table name without its schema (DESIGN §4.1). */
export const syncedName = (prefix: string, table: string): string => prefix + table.slice(table.lastIndexOf(".") + 1);

/** A table as the source file says it: no replication key for a full reload, no empty primary key. */
export const tableForFile = (table: TableConfig): TableConfig => {
  const { replication_key: key, primary_key: pk, ...rest } = table;
  return {
    ...rest,
    ...(table.sync !== "full_table" && key ? { replication_key: key } : {}),
    ...(pk && pk.length ? { primary_key: pk } : {}),
  };
};
