/** "3 min ago" / "in 2 h", with the exact time in a tooltip; a dash when there is no time. */
export const relative = (iso: string | null): string => {
  if (!iso) return "—";
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const [value, unit] =
    abs < 60 ? [abs, "s"] : abs < 3600 ? [Math.round(abs / 60), "min"] : abs < 86400 ? [Math.round(abs / 3600), "h"] : [Math.round(abs / 86400), "d"];
  return seconds < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
};

export const exact = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : "");

export const count = (value: number | null): string => (value === null ? "—" : value.toLocaleString());

/** Bytes as "4.6 MB" (powers of 1000, one decimal from kB up); a dash when unknown. */
export const size = (bytes: number | null): string => {
  if (bytes === null) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
};

export const firstLine = (text: string): string => text.split("\n", 1)[0];
