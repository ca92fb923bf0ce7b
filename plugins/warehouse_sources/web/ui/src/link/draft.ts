import { tableForFile } from "./tableDefaults";
import type { SourceConfig, TableConfig, Values } from "./types";

export type Step = "kind" | "connection" | "tables" | "save";
export const STEPS: { step: Step; label: string }[] = [
  { label: "Kind", step: "kind" },
  { label: "Connection", step: "connection" },
  { label: "Tables", step: "tables" },
  { label: "Frequency and save", step: "save" },
];

/** Everything the wizard has gathered; on an edit, the source's other keys ride along in `rest`. */
export interface Draft {
  editing: string | null; // the source's name when editing it
  kind: string;
  name: string;
  connId: string;
  connExists: boolean; // Airflow has it: picked, saved here, or the edited source's
  values: Values;
  prefix: string;
  schedule: string;
  tables: TableConfig[];
  rest: Record<string, unknown>;
}

/** The SSH connection of the source's `ssh_tunnel:` block, or null. */
export const tunnelOf = (draft: Draft): string | null => {
  const tunnel = draft.rest.ssh_tunnel as { conn_id?: string } | undefined;
  return tunnel?.conn_id || null;
};

/** The draft with its `ssh_tunnel:` block set to an SSH connection, or removed. */
export const withTunnel = (draft: Draft, connId: string): Partial<Draft> => {
  const { ssh_tunnel: _, ...rest } = draft.rest;
  return { rest: connId ? { ...rest, ssh_tunnel: { ...(draft.rest.ssh_tunnel as object | undefined), conn_id: connId } } : rest };
};

/** A bucket source's url (s3://bucket/prefix/ or file:///dir/), or null. */
export const urlOf = (draft: Draft): string | null => (typeof draft.rest.url === "string" && draft.rest.url ? draft.rest.url : null);

export const NAME = /^[a-z][a-z0-9_]*$/;

export const newDraft = (): Draft => ({
  connExists: false,
  connId: "",
  editing: null,
  kind: "",
  name: "",
  prefix: "",
  rest: {},
  schedule: "6h",
  tables: [],
  values: {},
});

export const draftFromConfig = (source: SourceConfig): Draft => {
  const { name, kind, conn_id: connId, schedule, table_prefix: prefix, tables, ...rest } = source;
  return { connExists: true, connId, editing: name, kind, name, prefix: prefix ?? "", rest, schedule, tables, values: {} };
};

/** The source as JSON (DESIGN §4.1), the body of POST /api/sources and PUT /api/sources/{name}. */
export const sourceFromDraft = (draft: Draft): SourceConfig => ({
  ...draft.rest,
  conn_id: draft.connId,
  kind: draft.kind,
  name: draft.name,
  schedule: draft.schedule,
  ...(draft.prefix ? { table_prefix: draft.prefix } : {}),
  tables: draft.tables.map(tableForFile),
});

/** 422 field errors by their place ("name", "tables.0.replication_key"), the request's "body" dropped. */
export const fieldErrors = (body: unknown): Record<string, string> => {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (!Array.isArray(detail)) return {};
  const errors: Record<string, string> = {};
  for (const item of detail as { loc?: unknown[]; msg?: string }[]) {
    const loc = (item.loc ?? []).filter((part, i) => !(i === 0 && part === "body"));
    errors[loc.join(".") || "source"] = item.msg ?? "invalid";
  }
  return errors;
};

/** The step that shows an error's field, so the wizard can go back to it. */
export const stepOf = (place: string): Step =>
  place.startsWith("tables") || place === "table_prefix" ? "tables" : place === "name" || place === "kind" ? "kind" : place === "conn_id" ? "connection" : "save";
