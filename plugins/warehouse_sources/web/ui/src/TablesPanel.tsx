import { Box, Button, Code, HStack, Link, SimpleGrid, Stack, Switch, Text } from "@chakra-ui/react";
import { useState } from "react";

import { airflowUrl, queryPageUrl, type SourceDetail, sqlName, type TableStatus } from "./api";
import { Confirm } from "./Confirm";
import { count, exact, relative, size } from "./format";
import { RunChart } from "./RunChart";
import { TableChecks } from "./TableChecks";
import { BUSY_REASON, Why } from "./Why";

interface Props {
  detail: SourceDetail;
  busy: boolean;
  running: boolean;
  onSwitch: (table: string, enabled: boolean) => void;
  onSync: (table: string, fullRefresh: boolean) => void;
  onRepair: (table: string) => void;
}

const Field = ({ label, children, wrap = false }: { label: string; children: React.ReactNode; wrap?: boolean }) => (
  <Box minW={0}>
    <Text color="fg.muted" fontSize="xs">
      {label}
    </Text>
    <Box fontSize="sm" truncate={!wrap} wordBreak={wrap ? "break-all" : undefined}>
      {children}
    </Box>
  </Box>
);

type RowProps = { table: TableStatus; busy: boolean; locked: boolean } & Omit<Props, "detail" | "busy">;

const CONFIRMS = {
  Resync: "Its cursor is reset and the table is rebuilt from the source.",
  Repair: "A run syncs it, verifies it deeply against the source and rewrites the key ranges that differ.",
};

const TableRow = ({ table, busy, locked, running, onSwitch, onSync, onRepair }: RowProps) => {
  const [confirming, setConfirming] = useState<"Resync" | "Repair" | null>(null);
  const off = busy || locked || running || !table.enabled;
  const switchedBy = table.enabled_origin === "ui" ? `switched by ${table.switched_by} ${relative(table.switched_at)}` : "from the source file";
  return (
    <Box borderTopWidth="1px" data-testid={`table-${table.synced_name}`} py={3}>
      <Stack direction={{ base: "column", md: "row" }} gap={3} justify="space-between">
        <HStack gap={3} minW={0}>
          <Switch.Root
            checked={table.enabled}
            disabled={busy || locked}
            onCheckedChange={(e) => onSwitch(table.synced_name, e.checked)}
            size="sm"
          >
            <Switch.HiddenInput aria-label={`Sync ${table.synced_name}`} />
            <Switch.Control />
          </Switch.Root>
          <Box minW={0}>
            <Text fontWeight="semibold" truncate>
              {table.schema_name ? `${table.schema_name}.${table.table}` : table.table}
            </Text>
            <Text color="fg.muted" fontSize="xs" title={table.enabled ? "" : switchedBy}>
              → <Code size="sm">{table.synced_name}</Code> · {table.enabled ? "enabled" : "disabled"} ({switchedBy})
            </Text>
          </Box>
        </HStack>
        <HStack flexShrink={0}>
          {table.rows_total !== null ? (
            <Link color="fg.info" fontSize="sm" href={queryPageUrl(`SELECT * FROM ${sqlName(table.synced_name)} LIMIT 100`)}>
              Query
            </Link>
          ) : null}
          <Why reason={running ? BUSY_REASON : null}>
            <Button disabled={off} onClick={() => onSync(table.synced_name, false)} size="xs" variant="outline">
              Sync
            </Button>
          </Why>
          <Why reason={running ? BUSY_REASON : null}>
            <Button disabled={off} onClick={() => setConfirming("Resync")} size="xs" variant="outline">
              Resync
            </Button>
          </Why>
          <Why reason={running ? BUSY_REASON : null}>
            <Button disabled={off} onClick={() => setConfirming("Repair")} size="xs" variant="outline">
              Repair
            </Button>
          </Why>
        </HStack>
      </Stack>
      <SimpleGrid columns={{ base: 2, md: 3, xl: 6 }} gap={3} mt={2}>
        <Field label="Method">{table.method}</Field>
        <Field label="Replication key / cursor" wrap>
          {table.replication_key ? (
            <span data-testid="cursor">
              {table.replication_key} · <Code size="sm" userSelect="all">{table.cursor ?? "—"}</Code>
            </span>
          ) : (
            "—"
          )}
        </Field>
        <Field label="Last synced">
          <span title={exact(table.last_synced)}>{relative(table.last_synced)}</span>
        </Field>
        <Field label="Last run">
          {table.last_run ? (
            <Link color="fg.info" href={airflowUrl(table.last_run.url)} title={exact(table.last_run.started)}>
              {table.state ?? "not started"} · {relative(table.last_run.started)}
            </Link>
          ) : (
            "—"
          )}
        </Field>
        <Field label="Rows last run">{count(table.rows_last_run)}</Field>
        <Field label="Rows in table">{count(table.rows_total)}</Field>
        <Field label="Size on disk">{size(table.bytes_on_disk)}</Field>
        <Field label="Live files">{count(table.live_files)}</Field>
        <Field label="Versions kept">{count(table.versions_kept)}</Field>
        <Field label="Last maintenance">
          {table.bytes_on_disk === null ? (
            "—"
          ) : (
            <span title={exact(table.last_maintenance)}>{table.last_maintenance ? relative(table.last_maintenance) : "never"}</span>
          )}
        </Field>
      </SimpleGrid>
      <TableChecks table={table} />
      <Box mt={2}>
        <Text color="fg.muted" fontSize="xs">
          Rows (bars) and seconds (line), last {table.history.length || 20} runs, oldest left
        </Text>
        <RunChart points={table.history} />
      </Box>
      {table.last_error ? (
        <Text color="fg.error" fontSize="sm" mt={1}>
          <Link href={airflowUrl(table.last_error.url)}>{table.last_error.message}</Link>
        </Text>
      ) : null}
      {confirming ? (
        <Confirm
          action={confirming}
          items={[table.synced_name]}
          onCancel={() => setConfirming(null)}
          onConfirm={() => {
            setConfirming(null);
            if (confirming === "Repair") onRepair(table.synced_name);
            else onSync(table.synced_name, true);
          }}
          title={`${confirming} ${table.synced_name}? ${CONFIRMS[confirming]}`}
        />
      ) : null}
    </Box>
  );
};

export const TablesPanel = ({ detail, busy, running, onSwitch, onSync, onRepair }: Props) => {
  const locked = detail.deleted !== null;
  return (
    <Box mt={3}>
      {detail.tables.map((table) => (
        <TableRow busy={busy} key={table.synced_name} locked={locked} onRepair={onRepair} onSwitch={onSwitch} onSync={onSync} running={running} table={table} />
      ))}
    </Box>
  );
};
