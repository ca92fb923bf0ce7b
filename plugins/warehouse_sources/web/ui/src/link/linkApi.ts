import { airflowRequest, request } from "../api";
import type { AirflowConnection, CatalogTable, KindInfo, SaveAnswer, SourceConfig, TestAnswer } from "./types";

const conn = (id: string): string => `connections/${encodeURIComponent(id)}`;

/** The link-a-source routes (DESIGN §4.9) and the Airflow connection routes the form drives. */
export const linkApi = {
  kinds: () => request<{ kinds: KindInfo[] }>("GET", "kinds"),
  test: (connId: string, kind: string, ssh: string | null, url: string | null) =>
    request<TestAnswer>("POST", `${conn(connId)}/test`, { kind, ...(ssh ? { ssh_conn_id: ssh } : {}), ...(url ? { url } : {}) }),
  /** A bucket table: the files `pattern` matches under `url` and the columns inferred from them. */
  files: (connId: string, kind: string, url: string, pattern: string, format: string) =>
    request<{ tables: CatalogTable[]; truncated?: boolean }>(
      "GET",
      `${conn(connId)}/tables?${new URLSearchParams({ format, kind, pattern, url }).toString()}`,
    ),
  tables: (connId: string, kind: string, ssh: string | null) =>
    request<{ tables: CatalogTable[]; truncated?: boolean }>(
      "GET",
      `${conn(connId)}/tables?${new URLSearchParams({ kind, ...(ssh ? { ssh_conn_id: ssh } : {}) }).toString()}`,
    ),
  create: (source: SourceConfig) => request<SaveAnswer>("POST", "sources", source),
  update: (name: string, source: SourceConfig) => request<SaveAnswer>("PUT", `sources/${encodeURIComponent(name)}`, source),
  config: (name: string) => request<{ source: SourceConfig; yaml: string }>("GET", `sources/${encodeURIComponent(name)}/config`),
};

/** Airflow's own connections: credentials live there, never in the source file. */
export const connectionsApi = {
  list: () => airflowRequest<{ connections: AirflowConnection[] }>("GET", "connections?limit=1000&order_by=connection_id"),
  get: (id: string) => airflowRequest<AirflowConnection>("GET", conn(id)),
  create: (body: Record<string, unknown>) => airflowRequest<AirflowConnection>("POST", "connections", body),
  update: (id: string, body: Record<string, unknown>) => airflowRequest<AirflowConnection>("PATCH", conn(id), body),
  /** Whether Airflow has loaded the DAG yet (404 until the DAG processor parsed the new file). */
  dag: (dagId: string) => airflowRequest<{ dag_id: string; is_paused: boolean }>("GET", `dags/${encodeURIComponent(dagId)}`),
};
