// The shapes of the link-a-source routes (DESIGN §4.9) and of the Airflow connections they name.

/** One input of a kind's connection form, as its registry entry declares it (GET /api/kinds). */
export interface FormField {
  name: string;
  label: string;
  type: string; // text | password | integer (number) | boolean (checkbox) | select | textarea
  secret: boolean;
  required: boolean;
  default: string | number | boolean | null;
  help: string;
  choices: string[];
  conn_attr: string; // host, port, login, password, schema or extra.<key>; "" = the field's name
}

export interface KindInfo {
  kind: string;
  label: string;
  conn_types: string[]; // the first is the type a new connection gets
  fields: FormField[];
  table_form?: string | null;
  bucket?: boolean;
  tunnel?: boolean; // reachable through an SSH bastion: the source file's `ssh_tunnel: {conn_id}`
  description?: string;
}

export interface CatalogColumn { name: string; type: string; replication_key: boolean; reason?: string | null }

export interface CatalogTable {
  name: string;
  type?: string;
  primary_key: string[];
  rows_estimate: number | null;
  columns: CatalogColumn[];
  files?: string[] | null;
}

export type Method = "incremental" | "append_only" | "full_table";
export const METHODS: Method[] = ["incremental", "append_only", "full_table"];

/** A table of a source as its file says it (4.1); keys the form does not edit ride along unchanged. */
export interface TableConfig {
  name: string;
  sync: Method;
  replication_key?: string;
  primary_key?: string[];
  [key: string]: unknown;
}

export interface SourceConfig {
  name: string;
  kind: string;
  conn_id: string;
  schedule: string;
  table_prefix?: string;
  tables: TableConfig[];
  [key: string]: unknown;
}

export interface SaveAnswer { name: string; dag_id: string; file: string; resync?: boolean; resync_tables?: string[] }

export interface TestAnswer { ok: boolean; error?: string | null }

/** An Airflow connection as GET /api/v2/connections answers it (secrets come back as "***"). */
export interface AirflowConnection {
  connection_id: string;
  conn_type: string;
  host: string | null;
  login: string | null;
  schema: string | null;
  port: number | null;
  password: string | null;
  extra: string | null;
}

/** The form's values, by field name (a checkbox holds a boolean). */
export type Values = Record<string, string | boolean>;
