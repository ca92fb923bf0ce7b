import { Box } from "@chakra-ui/react";

import type { RunPoint } from "./api";

const WIDTH = 160;
const HEIGHT = 36;

/** Rows (bars) and duration (line) of the last runs, oldest left; fixed size so nothing shifts. */
export const RunChart = ({ points }: { points: RunPoint[] }) => {
  const slot = WIDTH / 20;
  const maxRows = Math.max(1, ...points.map((p) => p.rows ?? 0));
  const maxSeconds = Math.max(0.001, ...points.map((p) => p.seconds ?? 0));
  const line = points
    .map((p, i) => (p.seconds === null ? null : `${i * slot + slot / 2},${HEIGHT - 2 - (p.seconds / maxSeconds) * (HEIGHT - 4)}`))
    .filter((p): p is string => p !== null)
    .join(" ");
  const label = points.length
    ? `last ${points.length} runs: rows ${points.map((p) => p.rows ?? "-").join(", ")}; seconds ${points.map((p) => p.seconds ?? "-").join(", ")}`
    : "no runs yet";
  return (
    <Box as="span" display="inline-block" h={`${HEIGHT}px`} w={`${WIDTH}px`}>
      <svg aria-label={label} height={HEIGHT} role="img" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width={WIDTH}>
        <title>{label}</title>
        {points.map((p, i) => {
          const h = p.rows === null ? 0 : Math.max(1, (p.rows / maxRows) * (HEIGHT - 2));
          const color = p.state === "failed" ? "var(--chakra-colors-red-solid)" : "var(--chakra-colors-blue-muted)";
          return <rect fill={color} height={h} key={p.run_id} width={slot - 2} x={i * slot + 1} y={HEIGHT - h} />;
        })}
        {line ? <polyline fill="none" points={line} stroke="var(--chakra-colors-fg-muted)" strokeWidth={1.5} /> : null}
      </svg>
    </Box>
  );
};
