import { ApiError } from "../api";
import { fieldErrors } from "./draft";

export interface SaveFailure {
  message: string;
  fields: Record<string, string>; // 422: by place, as the route's detail loc says
  yaml: string | null; // 409 from a read-only sources_dir: the file to commit by hand
}

const pick = (body: unknown, key: string): unknown => {
  const top = body as Record<string, unknown> | null;
  const detail = top?.detail as Record<string, unknown> | undefined;
  return top?.[key] ?? (detail && typeof detail === "object" && !Array.isArray(detail) ? detail[key] : undefined);
};

/** What a refused save says: field errors, the YAML of a read-only folder, or the message itself. */
export const saveFailure = (e: unknown): SaveFailure => {
  if (!(e instanceof ApiError)) return { fields: {}, message: e instanceof Error ? e.message : String(e), yaml: null };
  if (e.status === 422) {
    const fields = fieldErrors(e.body);
    return { fields, message: `The source was not saved: fix ${Object.keys(fields).length === 1 ? "the field" : "the fields"} marked in red.`, yaml: null };
  }
  const yaml = pick(e.body, "yaml");
  const message = pick(e.body, "message") ?? pick(e.body, "detail");
  return { fields: {}, message: typeof message === "string" ? message : e.message, yaml: typeof yaml === "string" ? yaml : null };
};
