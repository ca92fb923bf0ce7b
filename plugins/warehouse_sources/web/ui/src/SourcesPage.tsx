import { Box, Heading, HStack, Spinner, Stack, Text } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import { api, type SourceList } from "./api";
import { SourceCard } from "./SourceCard";
import { usePoll } from "./usePoll";

const linkedSource = (): string | null => new URLSearchParams(globalThis.location.search).get("source");

export const SourcesPage = () => {
  const [open, setOpen] = useState<Set<string>>(() => new Set(linkedSource() ? [linkedSource() as string] : []));
  const [fast, setFast] = useState(false);
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

  return (
    <Box p={{ base: 2, md: 4 }}>
      <HStack justify="space-between" mb={4}>
        <Heading size="lg">Sources</Heading>
        <Box h="20px" w="20px">{running ? <Spinner size="sm" /> : null}</Box>
      </HStack>
      {error ? <Text color="fg.error" role="alert">{error}</Text> : null}
      {data?.warnings.map((w) => (
        <Text color="fg.warning" fontSize="sm" key={w}>
          {w}
        </Text>
      ))}
      {!data && !error ? <Spinner /> : null}
      {data && data.sources.length === 0 ? <Text>No sources yet: add a YAML file to sources_dir.</Text> : null}
      <Stack gap={3}>
        {data?.sources.map((source) => (
          <SourceCard key={source.name} onChanged={changed} onToggle={() => toggle(source.name)} open={open.has(source.name)} source={source} />
        ))}
      </Stack>
    </Box>
  );
};
