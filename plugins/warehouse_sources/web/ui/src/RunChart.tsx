import { Box, HStack, Text } from "@chakra-ui/react";

import type { RunPoint } from "./api";
import { count } from "./format";

const SLOTS = 20;
const W = 400;
const H = 60;
const AXIS = 44; // room for the scale on the left

const seconds = (s: number | null): string => (s === null ? "—" : s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`);

/** Rows (bars) and duration (line) of the last runs, oldest left, with the scale of each and the
 * latest values written out; each bar's run on hover. Stretches to its box at any width. */
export const RunChart = ({ points }: { points: RunPoint[] }) => {
  const slot = (W - AXIS) / SLOTS;
  const maxRows = Math.max(1, ...points.map((p) => p.rows ?? 0));
  const maxSeconds = Math.max(0.001, ...points.map((p) => p.seconds ?? 0));
  const line = points
    .map((p, i) => (p.seconds === null ? null : `${AXIS + i * slot + slot / 2},${H - 2 - (p.seconds / maxSeconds) * (H - 8)}`))
    .filter((p): p is string => p !== null)
    .join(" ");
  const last = points[points.length - 1];
  const label = points.length
    ? `last ${points.length} runs: rows ${points.map((p) => p.rows ?? "-").join(", ")}; seconds ${points.map((p) => p.seconds ?? "-").join(", ")}`
    : "no runs yet";
  if (!points.length) return <Text fontSize="sm">no runs yet</Text>;
  return (
    <Box data-testid="run-chart" maxW="640px">
      <svg aria-label={label} preserveAspectRatio="none" role="img" style={{ display: "block", height: `${H}px`, width: "100%" }} viewBox={`0 0 ${W} ${H}`}>
        <line stroke="var(--chakra-colors-border)" x1={AXIS} x2={W} y1={H - 0.5} y2={H - 0.5} />
        <line stroke="var(--chakra-colors-border)" strokeDasharray="3 3" x1={AXIS} x2={W} y1={2} y2={2} />
        {points.map((p, i) => {
          const h = p.rows === null ? 0 : Math.max(1, (p.rows / maxRows) * (H - 4));
          const color = p.state === "failed" ? "var(--chakra-colors-red-solid)" : "var(--chakra-colors-blue-muted)";
          return (
            <rect fill={color} height={h} key={p.run_id} width={slot - 2} x={AXIS + i * slot + 1} y={H - h}>
              <title>{`${p.at ?? p.run_id}: ${p.state ?? "—"}, ${count(p.rows)} rows, ${seconds(p.seconds)}`}</title>
            </rect>
          );
        })}
        {line ? <polyline fill="none" points={line} stroke="var(--chakra-colors-fg-muted)" strokeWidth={1.5} vectorEffect="non-scaling-stroke" /> : null}
      </svg>
      <HStack color="fg.muted" fontSize="xs" gap={3} justify="space-between" wrap="wrap">
        <Text>
          top line: {count(maxRows)} rows · {seconds(maxSeconds)}
        </Text>
        <Text>
          latest: {count(last.rows)} rows in {seconds(last.seconds)}
        </Text>
      </HStack>
    </Box>
  );
};
