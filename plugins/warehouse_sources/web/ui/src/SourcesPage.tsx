import { Alert, Box, Button, CloseButton, Heading, HStack, Spinner, Stack, Text } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import { api, type DeleteAnswer, type SourceList } from "./api";
import { LinkWizard } from "./link/LinkWizard";
import { SourceCard } from "./SourceCard";
import { usePoll } from "./usePoll";

const linkedSource = (): string | null => new URLSearchParams(globalThis.location.search).get("source");

export const SourcesPage = () => {
  const [open, setOpen] = useState<Set<string>>(() => new Set(linkedSource() ? [linkedSource() as string] : []));
  const [fast, setFast] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  // The link form: "" links a new source, a name edits that source, null: closed.
  const [linking, setLinking] = useState<string | null>(null);
  const { data, error, refresh } = usePoll<SourceList>(api.list, fast ? 2000 : 10000, "list");
  const running = data?.sources.some((s) => s.status === "Running") ?? false;

  useEffect(() => setFast(running), [running]);
  useEffect(() => {
    const name = linkedSource();
    if (name && data) document.getElementById(`source-${name}`)?.scrollIntoView({ block: "start" });
  }, [data !== undefined]); // eslint-disable-line react-hooks/exhaustive-deps

  const toggle = (name: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });
  const changed = () => {
    setFast(true);
    refresh();
  };
  const deleted = (answer: DeleteAnswer) => {
    const tables = answer.dropped.length ? `dropped ${answer.dropped.join(", ")}` : "no synced table to drop";
    const file = answer.file_removed ? "its source file was removed" : (answer.note ?? "");
    setNotice(`Deleted ${answer.name}: ${tables}; ${file}.`);
  };
  // A source just linked or edited: its card opens and comes into view once the list has it.
  const [show, setShow] = useState<string | null>(null);
  useEffect(() => {
    if (show && data?.sources.some((s) => s.name === show)) {
      document.getElementById(`source-${show}`)?.scrollIntoView({ block: "start", behavior: "smooth" });
      setShow(null);
    }
  }, [show, data]);
  const linked = linkedSource();
  const missing = linked && data && !data.sources.some((s) => s.name === linked) ? linked : null;

  return (
    <Box p={{ base: 2, md: 4 }}>
      <HStack justify="space-between" mb={4}>
        <HStack gap={3}>
          <Heading size="lg">Sources</Heading>
          <Box h="20px" w="20px">{running ? <Spinner size="sm" /> : null}</Box>
        </HStack>
        <Button disabled={linking !== null} onClick={() => setLinking("")} size="sm">
          Link a source
        </Button>
      </HStack>
      {linking !== null ? (
        <LinkWizard
          editing={linking || null}
          key={linking}
          onClose={() => setLinking(null)}
          onDone={(text, name) => {
            setLinking(null);
            setNotice(text);
            setOpen((current) => new Set([...current, name]));
            setShow(name);
            changed();
          }}
        />
      ) : null}
      {error ? <Text color="fg.error" role="alert">{error}</Text> : null}
      {notice ? (
        <Alert.Root data-testid="page-notice" mb={3} status="success">
          <Alert.Indicator />
          <Alert.Title flex="1">{notice}</Alert.Title>
          <CloseButton aria-label="Dismiss" onClick={() => setNotice(null)} size="sm" />
        </Alert.Root>
      ) : null}
      {missing ? (
        <Alert.Root data-testid="missing-source" mb={3} status="warning">
          <Alert.Indicator />
          <Alert.Title>
            No source named {missing}: it was deleted, renamed or never existed (or you may not read it). These are the sources you can see.
          </Alert.Title>
        </Alert.Root>
      ) : null}
      {data?.warnings.map((w) => (
        <Text color="fg.warning" fontSize="sm" key={w}>
          {w}
        </Text>
      ))}
      {!data && !error ? <Spinner /> : null}
      {data && data.sources.length === 0 ? <Text>No sources yet: link one, or add a YAML file to sources_dir.</Text> : null}
      <Stack gap={3}>
        {data?.sources.map((source) => (
          <SourceCard
            key={source.name}
            onChanged={changed}
            onDeleted={deleted}
            onEdit={() => {
              setLinking(source.name);
              globalThis.scrollTo({ top: 0 });
            }}
            onToggle={() => toggle(source.name)}
            open={open.has(source.name)}
            source={source}
          />
        ))}
      </Stack>
    </Box>
  );
};
