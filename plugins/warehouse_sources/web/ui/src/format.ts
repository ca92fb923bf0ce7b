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

export const firstLine = (text: string): string => text.split("\n", 1)[0];
