import { target } from "./connString";
import type { AirflowConnection, FormField, KindInfo, Values } from "./types";

const ATTRS = new Set(["host", "port", "login", "password", "schema"]);
const HIDDEN = "***"; // Airflow's stand-in for a secret it does not give back; on PATCH it keeps the stored value

export const isNumber = (field: FormField): boolean => field.type === "integer" || field.type === "number";
export const isBoolean = (field: FormField): boolean => field.type === "boolean" || field.type === "checkbox";

/** A field's starting value: its declared default, else empty. */
export const initialValues = (kind: KindInfo): Values =>
  Object.fromEntries(kind.fields.map((f) => [f.name, isBoolean(f) ? f.default === true : f.default === null ? "" : String(f.default)]));

/** The body of POST/PATCH /api/v2/connections. On an edit (`keepSecrets`) an empty secret is left
 * out (the password) or sent as Airflow's "***" (an extra), so the stored secret stays as it is. */
export const connectionBody = (kind: KindInfo, connId: string, values: Values, keepSecrets: boolean): Record<string, unknown> => {
  const body: Record<string, unknown> = { connection_id: connId, conn_type: kind.conn_types[0] };
  const extra: Record<string, unknown> = {};
  for (const field of kind.fields) {
    const value = values[field.name];
    const unchanged = keepSecrets && field.secret && value === "";
    const attr = target(field);
    if (unchanged && ATTRS.has(attr)) continue;
    const out = unchanged ? HIDDEN : isNumber(field) && value !== "" ? Number(value) : value;
    if (value === "" && !unchanged) continue;
    if (ATTRS.has(attr)) body[attr] = out;
    else if (attr.startsWith("extra.")) extra[attr.slice("extra.".length)] = out;
  }
  if (Object.keys(extra).length) body.extra = JSON.stringify(extra);
  return body;
};

/** The form's values from a stored connection: every secret left empty (it never comes back). */
export const valuesFromConnection = (kind: KindInfo, conn: AirflowConnection): Values => {
  let extra: Record<string, unknown> = {};
  try {
    extra = conn.extra ? (JSON.parse(conn.extra) as Record<string, unknown>) : {};
  } catch {
    extra = {};
  }
  const stored: Record<string, unknown> = { host: conn.host, port: conn.port, login: conn.login, schema: conn.schema };
  const values = initialValues(kind);
  for (const field of kind.fields) {
    const attr = target(field);
    const value = attr.startsWith("extra.") ? extra[attr.slice("extra.".length)] : stored[attr];
    if (field.secret || value === undefined || value === null || value === HIDDEN) continue;
    values[field.name] = isBoolean(field) ? value === true || value === "true" : String(value);
  }
  return values;
};
