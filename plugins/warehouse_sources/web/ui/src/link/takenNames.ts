import { api } from "../api";

/** Synced table names other sources already use, each with its source, so a clash shows before saving. */
export const takenNames = async (except: string | null): Promise<Map<string, string>> => {
  const { sources } = await api.list();
  const others = sources.filter((s) => s.name !== except && s.deleted === null);
  const details = await Promise.all(others.map((s) => api.detail(s.name).catch(() => null)));
  const taken = new Map<string, string>();
  for (const detail of details) for (const table of detail?.tables ?? []) taken.set(table.synced_name, detail?.name ?? "");
  return taken;
};
