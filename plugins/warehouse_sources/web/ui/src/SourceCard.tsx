import { Alert, Badge, Box, Button, Flex, HStack, Link, SimpleGrid, Spinner, Text } from "@chakra-ui/react";
import { useCallback, useEffect, useState } from "react";

import { api, airflowUrl, type DeleteAnswer, type SourceDetail, type SourceSummary } from "./api";
import { Confirm } from "./Confirm";
import { exact, relative } from "./format";
import { StatusBadge } from "./StatusBadge";
import { TablesPanel } from "./TablesPanel";
import { usePoll } from "./usePoll";
import { BUSY_REASON, Why } from "./Why";

interface Props {
  source: SourceSummary;
  open: boolean;
  onToggle: () => void;
  onChanged: () => void;
  onDeleted: (answer: DeleteAnswer) => void;
  onEdit: () => void;
}

/** How long an action's message stays when the state it speaks of does not change first. */
const MESSAGE_MS = 8000;

type Pending = "resync" | "delete" | null;

const Stat = ({ label, value, title }: { label: string; value: React.ReactNode; title?: string }) => (
  <Box minW={0}>
    <Text color="fg.muted" fontSize="xs">
      {label}
    </Text>
    <Text fontSize="sm" title={title} truncate>
      {value}
    </Text>
  </Box>
);

type Act = (f: () => Promise<unknown>, done?: string) => void;

const Detail = ({ name, running, busy, act }: { name: string; running: boolean; busy: boolean; act: Act }) => {
  const { data, error, refresh } = usePoll<SourceDetail>(() => api.detail(name), running ? 2000 : 10000, name);
  const run = useCallback((f: () => Promise<unknown>, done?: string) => act(() => f().finally(refresh), done), [act, refresh]);
  if (error) return <Text color="fg.error">{error}</Text>;
  if (!data) return <Spinner size="sm" />;
  return (
    <TablesPanel
      busy={busy}
      detail={data}
      onRepair={(table) => run(() => api.repair(name, [table]), `Repair of ${table} queued`)}
      onSwitch={(table, enabled) => run(() => api.switchTable(name, table, enabled))}
      onSync={(table, full) => run(() => api.sync(name, [table], full), `${full ? "Resync" : "Sync"} of ${table} queued`)}
      running={running}
    />
  );
};

export const SourceCard = ({ source, open, onToggle, onChanged, onDeleted, onEdit }: Props) => {
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  // `status`: the source's status when the action was taken, the state the message speaks of.
  const [message, setMessage] = useState<{ ok: boolean; text: string; status: string } | null>(null);
  const [tables, setTables] = useState<string[]>([]);
  const deleted = source.deleted !== null;
  const running = source.status === "Running";
  const runReason = running ? BUSY_REASON : null;

  // A message speaks of the state it was given in: it goes when that changes, or after a while.
  // A run it queued starting ("Running") is what a "queued" message announced, not a change past it.
  useEffect(() => {
    setMessage((m) => (m && m.status !== source.status && source.status !== "Running" ? null : m));
  }, [source.status]);
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), MESSAGE_MS);
    return () => clearTimeout(timer);
  }, [message]);

  const act = useCallback(
    (f: () => Promise<unknown>, done?: string) => {
      setBusy(true);
      setMessage(null);
      f()
        .then(() => done && setMessage({ ok: true, status: source.status, text: done }))
        .catch((e: unknown) => setMessage({ ok: false, status: source.status, text: e instanceof Error ? e.message : String(e) }))
        .finally(() => {
          setBusy(false);
          onChanged();
        });
    },
    [onChanged, source.status],
  );

  const askDelete = () => {
    api.detail(source.name).then((d) => {
      setTables(d.tables.map((t) => t.synced_name));
      setPending("delete");
    }, (e: unknown) => setMessage({ ok: false, status: source.status, text: String(e) }));
  };

  return (
    <Box borderRadius="md" borderWidth="1px" data-testid={`source-${source.name}`} id={`source-${source.name}`} p={4}>
      <Flex align="center" gap={3} justify="space-between" wrap="wrap">
        <HStack gap={3} minW={0}>
          <Button aria-expanded={open} onClick={onToggle} px={1} size="sm" variant="ghost">
            {open ? "▾" : "▸"}
            <Text as="span" fontSize="md" fontWeight="bold">
              {source.name}
            </Text>
          </Button>
          <Badge variant="outline">{source.kind}</Badge>
          <StatusBadge status={source.status} />
          <Box h="16px" w="16px">{running ? <Spinner aria-label="sync running" size="xs" /> : null}</Box>
        </HStack>
        <HStack gap={2} wrap="wrap">
          <Why reason={runReason ?? (source.paused ? "Paused: unpause the source to sync it" : null)}>
            <Button disabled={busy || deleted || source.paused || running} onClick={() => act(() => api.sync(source.name), "Sync queued")} size="sm">
              Sync now
            </Button>
          </Why>
          <Why reason={runReason ?? (source.paused ? "Paused: unpause the source to resync it" : null)}>
            <Button disabled={busy || deleted || source.paused || running} onClick={() => setPending("resync")} size="sm" variant="outline">
              Resync
            </Button>
          </Why>
          <Button
            disabled={busy || deleted}
            onClick={() => act(() => api.pause(source.name, !source.paused), source.paused ? "Unpaused" : "Paused")}
            size="sm"
            variant="outline"
          >
            {source.paused ? "Unpause" : "Pause"}
          </Button>
          <Button disabled={busy || deleted} onClick={onEdit} size="sm" variant="outline">
            Edit
          </Button>
          {/* A delete that stopped midway stays deletable: a second delete finishes it. */}
          <Why reason={runReason}>
            <Button
              colorPalette="red"
              disabled={busy || running || (deleted && source.deleted?.finished !== false)}
              onClick={askDelete}
              size="sm"
              variant="outline"
            >
              Delete
            </Button>
          </Why>
        </HStack>
      </Flex>
      <SimpleGrid columns={{ base: 2, md: 3, lg: 6 }} gap={3} mt={3}>
        <Stat label="Frequency" value={source.frequency} />
        <Stat label="Last successful run" title={exact(source.last_success)} value={relative(source.last_success)} />
        <Stat label="Next run" title={exact(source.next_run)} value={source.paused ? "paused" : relative(source.next_run)} />
        <Stat label="Tables" value={`${source.tables_enabled} of ${source.tables_total} enabled`} />
        <Stat
          label="Current run"
          value={source.active_run ? <Link color="fg.info" href={airflowUrl(source.active_run.url)}>{source.active_run.state}</Link> : "—"}
        />
        <Stat label="DAG" value={<Link color="fg.info" href={airflowUrl(source.dag_url)}>{source.dag_id}</Link>} />
      </SimpleGrid>
      <Box minH="1.5em" mt={2}>
        {source.last_error ? (
          <Text color="fg.error" fontSize="sm" truncate>
            Last error ({source.last_error.task_id}):{" "}
            <Link href={airflowUrl(source.last_error.url)} title="open the failed task's log">
              {source.last_error.message}
            </Link>
          </Text>
        ) : null}
      </Box>
      {source.deleted ? (
        <Alert.Root mt={2} status="info">
          <Alert.Indicator />
          <Alert.Title>
            {source.deleted.finished ? "Deleted" : "Delete started"} by {source.deleted.by} {relative(source.deleted.at)}. {source.deleted.note ?? ""}
          </Alert.Title>
        </Alert.Root>
      ) : null}
      {message ? (
        <Text aria-live="polite" color={message.ok ? "fg.success" : "fg.error"} data-testid="action-message" fontSize="sm" mt={1}>
          {message.text}
        </Text>
      ) : null}
      {pending === "resync" ? (
        <Confirm
          action="Resync all"
          onCancel={() => setPending(null)}
          onConfirm={() => {
            setPending(null);
            act(() => api.sync(source.name, undefined, true), "Resync queued");
          }}
          title={`Resync every enabled table of ${source.name}? Cursors are reset and the tables rebuilt from the source.`}
        />
      ) : null}
      {pending === "delete" ? (
        <Confirm
          action={`Delete ${source.name}`}
          items={tables}
          onCancel={() => setPending(null)}
          onConfirm={() => {
            setPending(null);
            act(() => api.remove(source.name).then(onDeleted));
          }}
          title={`Delete ${source.name}? Its DAG stops being scheduled and these synced tables are dropped with their state:`}
        />
      ) : null}
      {open ? <Detail act={act} busy={busy} name={source.name} running={running} /> : null}
    </Box>
  );
};
