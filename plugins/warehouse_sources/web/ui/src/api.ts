// The plugin's REST API (DESIGN §4.8): the page reads and changes everything through it,
// with the Airflow UI's session cookie, so every action works the same from curl.

export type Status = "Never run" | "Running" | "Completed" | "Failed" | "Paused" | "Deleted";

export interface RunRef { run_id: string; state: string | null; started: string | null; ended: string | null; url: string }
export interface ErrorRef { message: string; task_id: string; run_id: string; url: string }
export interface Deleted { by: string; at: string; file_removed: boolean; note: string | null; finished: boolean }

export interface SourceSummary {
  name: string;
  kind: string;
  dag_id: string;
  status: Status;
  paused: boolean;
  schedule: string;
  frequency: string;
  last_success: string | null;
  next_run: string | null;
  last_run: RunRef | null;
  active_run: RunRef | null;
  last_error: ErrorRef | null;
  tables_total: number;
  tables_enabled: number;
  deleted: Deleted | null;
  dag_url: string;
}

export interface RunPoint { run_id: string; at: string | null; state: string | null; rows: number | null; seconds: number | null }

export interface VerifyCheck { ok: boolean; message: string; note: string; checked_at: string | null }
export interface DriftRange { low: number | null; high: number | null; source_rows: number; warehouse_rows: number }
export interface Verified {
  checked_at: string;
  ok: boolean;
  key: string;
  source_rows: number;
  warehouse_rows: number;
  drift: DriftRange[];
  problem: string;
  line: string;
  repaired: boolean;
}

export interface TableStatus {
  synced_name: string;
  schema_name: string;
  table: string;
  enabled: boolean;
  enabled_origin: "yaml" | "ui";
  switched_by: string | null;
  switched_at: string | null;
  method: string;
  replication_key: string | null;
  cursor: string | number | null;
  last_synced: string | null;
  rows_last_run: number | null;
  rows_total: number | null;
  bytes_on_disk: number | null;
  live_files: number | null;
  versions_kept: number | null;
  last_maintenance: string | null;
  deletes: string;
  deletes_checked_at: string | null;
  deletes_found: number | null;
  verify: string;
  verify_check: VerifyCheck | null;
  verified: Verified | null;
  used_by: { dag_id: string; url: string }[];
  state: string | null;
  last_run: RunRef | null;
  last_error: ErrorRef | null;
  history: RunPoint[];
}

export interface DeleteAnswer { name: string; dropped: string[]; file_removed: boolean; note: string | null }

export interface SourceDetail extends SourceSummary { source_file: string; tables: TableStatus[] }
export interface SourceList { sources: SourceSummary[]; warnings: string[] }

/** A refused request: its status, the message to show, and the answer's JSON (422 field errors, a 409's YAML). */
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown = null,
  ) {
    super(message);
  }
}

/** A URL relative to Airflow's base URL (the UI sets <base href>), so sub-path deployments work. */
export const airflowUrl = (path: string): string => new URL(path, document.baseURI).toString();

/** Every request that changes state is same-origin JSON (`{}` when there is nothing to send):
 * the plugin refuses any other such request made with the UI's cookie, as a form from another
 * site could send it. */
const send = async <T>(url: string, method: string, body?: unknown): Promise<T> => {
  const reads = method === "GET";
  const response = await fetch(url, {
    body: reads ? undefined : JSON.stringify(body ?? {}),
    credentials: "same-origin",
    headers: reads ? {} : { "Content-Type": "application/json" },
    method,
  });
  const data: unknown = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = (data as { detail?: unknown }).detail;
    throw new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail ?? response.statusText), data);
  }
  return data as T;
};

/** The plugin's routes (`<prefix>/api/...`). */
export const request = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  send<T>(airflowUrl(`warehouse-sources/api/${path}`), method, body);

/** Airflow's own REST API (`/api/v2/...`): the UI's cookie authenticates it as it does the plugin's. */
export const airflowRequest = <T>(method: string, path: string, body?: unknown): Promise<T> =>
  send<T>(airflowUrl(`api/v2/${path}`), method, body);

const source = (name: string): string => `sources/${encodeURIComponent(name)}`;

export const api = {
  list: () => request<SourceList>("GET", "sources"),
  detail: (name: string) => request<SourceDetail>("GET", source(name)),
  repair: (name: string, tables: string[]) => request<{ dag_run_id: string }>("POST", `${source(name)}/repair`, { tables }),
  sync: (name: string, tables?: string[], fullRefresh = false) =>
    request<{ dag_run_id: string }>("POST", `${source(name)}/sync`, { full_refresh: fullRefresh, ...(tables ? { tables } : {}) }),
  pause: (name: string, paused: boolean) => request<{ paused: boolean }>("POST", `${source(name)}/${paused ? "pause" : "unpause"}`),
  remove: (name: string) => request<DeleteAnswer>("DELETE", source(name)),
  switchTable: (name: string, table: string, enabled: boolean) =>
    request<{ enabled: boolean }>("PATCH", `${source(name)}/tables/${encodeURIComponent(table)}`, { enabled }),
};

export interface QueryColumn { name: string; type: string }
export interface QueryResult { columns: QueryColumn[]; rows: unknown[][]; truncated: boolean }
export interface WarehouseTable { name: string; kind: "table" | "view"; source: string | null; version: number | null; columns: QueryColumn[] }

export const queryApi = {
  tables: () => request<{ tables: WarehouseTable[] }>("GET", "tables"),
  run: (sql: string) => request<QueryResult>("POST", "query", { sql }),
};

const SIMPLE_NAME = /^[a-z_][a-z0-9_]*$/;
const RESERVED = new Set(["all", "and", "as", "by", "case", "from", "group", "join", "limit", "order", "select", "table", "to", "user", "where", "with"]);

/** A table name as SQL needs it: bare when it is a plain lower-case name, else double-quoted. */
export const sqlName = (name: string): string =>
  SIMPLE_NAME.test(name) && !RESERVED.has(name) ? name : `"${name.replaceAll('"', '""')}"`;

/** The Query page (react_apps url_route "query") with `sql` in its URL, so it opens ready to run. */
export const queryPageUrl = (sql: string): string => airflowUrl(`plugin/query?sql=${encodeURIComponent(sql)}`);
