// What a result looks like to the page: which chart fits it, and its CSV text.
import type { QueryColumn, QueryResult } from "../api";

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL)\b/;
const TEMPORAL = /^(DATE|TIMESTAMP)\b/;
const TEXT = /^VARCHAR\b/;

export const isNumeric = (column: QueryColumn): boolean => NUMERIC.test(column.type);

export type ChartKind = "line" | "bar" | null;

/** A time series (first column a date or timestamp, the others numbers) draws as lines; a
 * category count (first column text, second a number) as bars; anything else draws nothing. */
export const chartKind = (result: QueryResult): ChartKind => {
  const [first, ...rest] = result.columns;
  if (!first || rest.length === 0 || result.rows.length < 2) return null;
  if (TEMPORAL.test(first.type) && rest.every(isNumeric)) return "line";
  if (TEXT.test(first.type) && rest.length === 1 && isNumeric(rest[0])) return "bar";
  return null;
};

/** A value as a number for a chart (DECIMAL arrives as a string with every digit). */
export const asNumber = (value: unknown): number | null => {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
};

/** A cell as text: NULL for null, nested values as JSON. */
export const cellText = (value: unknown): string =>
  value === null || value === undefined ? "NULL" : typeof value === "object" ? JSON.stringify(value) : String(value);

const csvField = (value: unknown): string => {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** RFC 4180 CSV with a header row, as the CLI's `--format csv` writes it (NULL is an empty field). */
export const toCsv = (result: QueryResult): string =>
  [result.columns.map((c) => csvField(c.name)), ...result.rows.map((row) => row.map(csvField))].map((r) => r.join(",")).join("\n") + "\n";

/** A short number for an axis: 1.2k, 3.4M. */
export const short = (n: number): string => {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? n.toLocaleString() : n.toLocaleString(undefined, { maximumFractionDigits: 2 });
};
