import { Box, HStack, Link, Text } from "@chakra-ui/react";

import { airflowUrl, type DriftRange, type TableStatus, type Verified } from "./api";
import { count, exact, relative } from "./format";

const SHOWN_RANGES = 3;

/** One drifted key range as ids (the high end is exclusive): "1000-1254", "…-99", "5000-…". */
const range = (r: DriftRange): string => `${r.low ?? "…"}-${r.high === null ? "…" : r.high - 1}`;

/** The last deep verification in words: ok, the drift and where, or why it could not run. */
const deepResult = (v: Verified): string => {
  if (v.problem) return `not verified: ${v.problem}`;
  if (v.ok) return v.repaired ? "ok after repair" : "ok";
  const ranges = v.drift.slice(0, SHOWN_RANGES).map(range).join(", ");
  const more = v.drift.length > SHOWN_RANGES ? ", …" : "";
  return `drift in ${v.drift.length} range${v.drift.length === 1 ? "" : "s"} (${v.key} ${ranges}${more}): source ${count(v.source_rows)} rows, warehouse ${count(v.warehouse_rows)}`;
};

const Line = ({ label, testId, error = false, children }: { label: string; testId: string; error?: boolean; children: React.ReactNode }) => (
  <Text color={error ? "fg.error" : undefined} data-testid={testId} fontSize="sm">
    <Text as="span" color="fg.muted">
      {label}:
    </Text>{" "}
    {children}
  </Text>
);

/** Deletions, verification and consumers of one table (issues 20 and 22); lines with nothing to say are left out. */
export const TableChecks = ({ table }: { table: TableStatus }) => {
  const { verified, verify_check: check } = table;
  return (
    <Box mt={2}>
      {table.deletes !== "none" ? (
        <Line label="Deletions" testId="deletions">
          {table.deletes}, {table.deletes_checked_at ? <span title={exact(table.deletes_checked_at)}>last checked {relative(table.deletes_checked_at)}</span> : "never checked"}
          {table.deletes_found !== null ? `, ${count(table.deletes_found)} found` : ""}
        </Line>
      ) : null}
      {check && table.verify !== "off" ? (
        <Line error={!check.ok} label="Last sync's check" testId="verify-check">
          {check.ok ? "ok" : check.message}
          {check.note ? ` (${check.note})` : ""}
          {check.checked_at ? (
            <>
              {" "}
              <span title={exact(check.checked_at)}>{relative(check.checked_at)}</span>
            </>
          ) : null}
        </Line>
      ) : null}
      {verified ? (
        <Line error={!verified.ok} label="Verified" testId="verified">
          <span title={verified.line}>{deepResult(verified)}</span> <span title={exact(verified.checked_at)}>{relative(verified.checked_at)}</span>
        </Line>
      ) : null}
      {table.used_by.length ? (
        <HStack data-testid="used-by" fontSize="sm" gap={1} wrap="wrap">
          <Text color="fg.muted">Used by:</Text>
          {table.used_by.map((dag, i) => (
            <Text as="span" key={dag.dag_id}>
              <Link color="fg.info" href={airflowUrl(dag.url)}>
                {dag.dag_id}
              </Link>
              {i < table.used_by.length - 1 ? "," : ""}
            </Text>
          ))}
        </HStack>
      ) : null}
    </Box>
  );
};
