import { Box, HStack, Stack, Text } from "@chakra-ui/react";

import type { QueryResult } from "../api";
import { asNumber, type ChartKind, short } from "./results";

const COLORS = ["blue", "orange", "green", "purple"].map((c) => `var(--chakra-colors-${c}-solid)`);
const W = 720;
const H = 90;
const MAX_BARS = 30;

/** Lines over time, one small chart per numeric column (at most four), each on its own scale
 * (a count beside a sum would otherwise lie flat); scale and dates are text, readable at any width. */
const Lines = ({ result }: { result: QueryResult }) => {
  const times = result.rows.map((r) => new Date(String(r[0])).getTime());
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const order = times.map((t, i) => [t, i]).sort((a, b) => a[0] - b[0]);
  const label = (t: number) => new Date(t).toISOString().slice(0, 10);
  return (
    <Stack gap={3}>
      {result.columns.slice(1, 5).map((column, s) => {
        const points = order
          .map(([t, i]) => [t, asNumber(result.rows[i][s + 1])] as const)
          .filter((p): p is readonly [number, number] => p[1] !== null);
        const values = points.map((p) => p[1]);
        const [v0, v1] = [Math.min(0, ...values), Math.max(...values, 1e-9)];
        const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * W;
        const y = (v: number) => H - 2 - ((v - v0) / (v1 - v0)) * (H - 4);
        return (
          <Box key={column.name}>
            <HStack fontSize="xs" justify="space-between">
              <HStack gap={1}>
                <Box bg={COLORS[s]} borderRadius="sm" h="10px" w="10px" />
                <Text fontWeight="semibold">{column.name}</Text>
              </HStack>
              <Text color="fg.muted">max {short(v1)}{v0 < 0 ? ` · min ${short(v0)}` : " · from 0"}</Text>
            </HStack>
            <svg aria-label={`${column.name} by ${result.columns[0].name}`} preserveAspectRatio="none" role="img"
              style={{ display: "block", height: `${H}px`, width: "100%" }} viewBox={`0 0 ${W} ${H}`}>
              <line stroke="var(--chakra-colors-border)" x1={0} x2={W} y1={y(v0)} y2={y(v0)} />
              <line stroke="var(--chakra-colors-border)" strokeDasharray="4 4" x1={0} x2={W} y1={y(v1)} y2={y(v1)} />
              <polyline fill="none" points={points.map(([t, v]) => `${x(t)},${y(v)}`).join(" ")} stroke={COLORS[s]}
                strokeWidth={2} vectorEffect="non-scaling-stroke" />
            </svg>
          </Box>
        );
      })}
      <HStack color="fg.muted" fontSize="xs" justify="space-between">
        <Text>{label(t0)}</Text>
        <Text>{result.columns[0].name}</Text>
        <Text>{label(t1)}</Text>
      </HStack>
    </Stack>
  );
};

/** One horizontal bar per category, its value written beside it (the first 30 rows). */
const Bars = ({ result }: { result: QueryResult }) => {
  const rows = result.rows.slice(0, MAX_BARS).map((r) => ({ label: r[0] === null ? "NULL" : String(r[0]), value: asNumber(r[1]) ?? 0 }));
  const max = Math.max(1e-9, ...rows.map((r) => Math.abs(r.value)));
  return (
    <Box aria-label={`${result.columns[1].name} by ${result.columns[0].name}`} role="img">
      {rows.map((r, i) => (
        <HStack fontSize="xs" gap={2} key={`${r.label}-${i}`} py="1px">
          <Text flex="0 0 30%" textAlign="end" title={r.label} truncate>{r.label}</Text>
          <Box flex="1" minW={0}>
            <Box bg={COLORS[0]} borderRadius="sm" h="14px" w={`${Math.max(0.5, (Math.abs(r.value) / max) * 100)}%`} />
          </Box>
          <Text flex="0 0 auto" fontVariantNumeric="tabular-nums" minW="4em" textAlign="end">{short(r.value)}</Text>
        </HStack>
      ))}
      {result.rows.length > MAX_BARS ? <Text color="fg.muted" fontSize="xs">the first {MAX_BARS} of {result.rows.length} rows</Text> : null}
    </Box>
  );
};

export const ResultChart = ({ kind, result }: { kind: Exclude<ChartKind, null>; result: QueryResult }) => (
  <Box borderRadius="md" borderWidth="1px" data-testid="result-chart" data-kind={kind} p={3}>
    {kind === "line" ? <Lines result={result} /> : <Bars result={result} />}
  </Box>
);
