import type { FormField, Values } from "./types";

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % in a pasted password is the password's own
  }
};

/** `postgresql://user:pw@host:5432/db?sslmode=require` (or mysql://, ...) as Airflow connection
 * attributes: host, port, login, password, schema and extra.<query key>; null when it is no URL. */
export const parseConnectionString = (text: string): Record<string, string> | null => {
  const match = /^\s*([a-z][a-z0-9+.-]*):\/\/(.*?)\s*$/i.exec(text);
  if (!match) return null;
  let rest = match[2];
  const attrs: Record<string, string> = {};
  const query = rest.indexOf("?");
  if (query >= 0) {
    for (const [key, value] of new URLSearchParams(rest.slice(query + 1))) attrs[`extra.${key}`] = value;
    rest = rest.slice(0, query);
  }
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const user = rest.slice(0, at);
    const colon = user.indexOf(":");
    attrs.login = decode(colon >= 0 ? user.slice(0, colon) : user);
    if (colon >= 0) attrs.password = decode(user.slice(colon + 1));
    rest = rest.slice(at + 1);
  }
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    if (rest.slice(slash + 1)) attrs.schema = decode(rest.slice(slash + 1));
    rest = rest.slice(0, slash);
  }
  const port = /^(.*):(\d+)$/.exec(rest);
  attrs.host = decode(port ? port[1] : rest).replace(/^\[(.*)\]$/, "$1");
  if (port) attrs.port = port[2];
  return attrs.host ? attrs : null;
};

/** The connection attribute a form field fills. */
export const target = (field: FormField): string => field.conn_attr || field.name;

/** Fill the form's fields from a pasted connection string; the fields it does not name keep their values. */
export const fillFromString = (fields: FormField[], values: Values, text: string): Values | null => {
  const attrs = parseConnectionString(text);
  if (!attrs) return null;
  const next = { ...values };
  for (const field of fields) {
    const value = attrs[target(field)];
    if (value !== undefined) next[field.name] = field.type === "boolean" || field.type === "checkbox" ? value === "true" : value;
  }
  return next;
};
