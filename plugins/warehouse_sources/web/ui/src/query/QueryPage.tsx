import { Alert, Box, Button, Code, Heading, HStack, Stack, Text } from "@chakra-ui/react";
import { useCallback, useEffect, useState } from "react";

import { queryApi, type QueryResult, type WarehouseTable } from "../api";
import { Editor } from "./Editor";
import { ResultChart } from "./ResultChart";
import { ResultTable } from "./ResultTable";
import { chartKind, toCsv } from "./results";

const urlSql = (): string => new URLSearchParams(globalThis.location.search).get("sql") ?? "";

/** Keeps the query in the page's URL (`?sql=`), so a link shares it. */
const keepInUrl = (sql: string) => {
  const url = new URL(globalThis.location.href);
  if (sql.trim()) url.searchParams.set("sql", sql);
  else url.searchParams.delete("sql");
  globalThis.history.replaceState(globalThis.history.state, "", url);
};

const download = (result: QueryResult) => {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([toCsv(result)], { type: "text/csv" }));
  link.download = "query.csv";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
};

const Tables = ({ tables, onPick }: { tables: WarehouseTable[]; onPick: (name: string) => void }) => (
  <Stack as="nav" aria-label="tables and views" gap={0} maxH={{ base: "10em", lg: "70vh" }} overflow="auto">
    {tables.map((t) => (
      <Button
        justifyContent="start"
        key={t.name}
        onClick={() => onPick(t.name)}
        size="xs"
        title={t.columns.map((c) => `${c.name} ${c.type}`).join("\n")}
        variant="ghost"
      >
        <Text fontFamily="mono" truncate>{t.name}</Text>
        {t.kind === "view" ? <Text color="fg.muted" fontSize="2xs">view</Text> : null}
      </Button>
    ))}
  </Stack>
);

export const QueryPage = () => {
  const [sql, setSql] = useState(urlSql);
  const [tables, setTables] = useState<WarehouseTable[]>([]);
  const [result, setResult] = useState<QueryResult>();
  const [error, setError] = useState<string>();
  const [running, setRunning] = useState(false);

  useEffect(() => {
    queryApi.tables().then((t) => setTables(t.tables), (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);

  const run = useCallback(() => {
    if (!sql.trim() || running) return;
    keepInUrl(sql);
    setRunning(true);
    setError(undefined);
    queryApi
      .run(sql)
      .then(setResult, (e: unknown) => {
        setResult(undefined);
        setError(e instanceof Error ? e.message : String(e));
      })
      .finally(() => setRunning(false));
  }, [sql, running]);

  const kind = result ? chartKind(result) : null;
  return (
    <Box p={{ base: 2, md: 4 }}>
      <Heading mb={4} size="lg">Query</Heading>
      <Stack direction={{ base: "column", lg: "row" }} gap={4}>
        <Box flex={{ base: "0 0 auto", lg: "0 0 14rem" }} minW={0}>
          <Text color="fg.muted" fontSize="xs" mb={1}>Tables and views</Text>
          <Tables onPick={(name) => setSql((s) => (s.trim() ? `${s}${/\s$/.test(s) ? "" : " "}${name}` : `SELECT * FROM ${name} LIMIT 100`))} tables={tables} />
        </Box>
        <Stack flex="1" gap={3} minW={0}>
          <Editor onChange={setSql} onRun={run} tables={tables} value={sql} />
          <HStack gap={2} wrap="wrap">
            <Button disabled={!sql.trim()} loading={running} onClick={run} size="sm">Run</Button>
            <Text color="fg.muted" fontSize="xs">Ctrl/⌘ + Enter</Text>
            {result ? (
              <Button ml="auto" onClick={() => download(result)} size="sm" variant="outline">Download CSV</Button>
            ) : null}
          </HStack>
          {error ? (
            <Alert.Root data-testid="query-error" role="alert" status="error">
              <Alert.Indicator />
              <Alert.Content>
                <Alert.Title>Query failed</Alert.Title>
                <Alert.Description whiteSpace="pre-wrap" wordBreak="break-word">{error}</Alert.Description>
              </Alert.Content>
            </Alert.Root>
          ) : null}
          {result ? (
            <>
              <Text aria-live="polite" color="fg.muted" fontSize="sm">
                {result.rows.length.toLocaleString()} row{result.rows.length === 1 ? "" : "s"}
                {result.truncated ? " (truncated at the row limit: add a LIMIT, filter or aggregate to see the rest)" : ""}
              </Text>
              {kind ? <ResultChart kind={kind} result={result} /> : null}
              <ResultTable result={result} />
            </>
          ) : null}
          {!result && !error ? (
            <Text color="fg.muted" fontSize="sm">
              Read-only SQL (DuckDB) over the synced tables, by their synced names; <Code size="sm">as_of('table', version)</Code> reads an earlier sync.
            </Text>
          ) : null}
        </Stack>
      </Stack>
    </Box>
  );
};
