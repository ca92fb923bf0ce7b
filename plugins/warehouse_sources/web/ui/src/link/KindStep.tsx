import { Button, Field, Input, SimpleGrid, Stack, Text } from "@chakra-ui/react";

import { initialValues } from "./connectionBody";
import { type Draft, NAME } from "./draft";
import type { KindInfo } from "./types";

interface Props {
  kinds: KindInfo[];
  draft: Draft;
  errors: Record<string, string>;
  onChange: (patch: Partial<Draft>) => void;
}

/** Step 1: which kind of source, and its name (the DAG id and the default table prefix follow from it). */
export const KindStep = ({ kinds, draft, errors, onChange }: Props) => {
  const pick = (kind: KindInfo) => {
    if (kind.kind !== draft.kind) onChange({ connExists: false, kind: kind.kind, rest: {}, tables: [], values: initialValues(kind) });
  };
  const rename = (name: string) =>
    onChange({
      connId: draft.connExists || (draft.connId && draft.connId !== draft.name) ? draft.connId : name,
      name,
      prefix: draft.prefix && draft.prefix !== `${draft.name}_` ? draft.prefix : name ? `${name}_` : "",
    });
  const selected = kinds.find((k) => k.kind === draft.kind);
  const nameError = errors.name ?? (draft.name && !NAME.test(draft.name) ? "lower-case letters, digits and _, starting with a letter" : undefined);
  return (
    <Stack gap={4}>
      <Field.Root>
        <Field.Label>Kind</Field.Label>
        <SimpleGrid columns={{ base: 2, md: 4 }} gap={2} role="radiogroup" w="full">
          {kinds.map((kind) => (
            <Button
              aria-checked={draft.kind === kind.kind}
              disabled={draft.editing !== null && draft.kind !== kind.kind}
              key={kind.kind}
              onClick={() => pick(kind)}
              h="auto"
              minH={10}
              py={2}
              role="radio"
              title={kind.description}
              variant={draft.kind === kind.kind ? "solid" : "outline"}
              whiteSpace="normal"
            >
              {kind.label}
            </Button>
          ))}
        </SimpleGrid>
        {selected?.description ? <Field.HelperText>{selected.label}: {selected.description}</Field.HelperText> : null}
      </Field.Root>
      <Field.Root invalid={Boolean(nameError)} required>
        <Field.Label htmlFor="source-name">
          Source name
          <Field.RequiredIndicator />
        </Field.Label>
        <Input disabled={draft.editing !== null} id="source-name" onChange={(e) => rename(e.currentTarget.value)} size="sm" value={draft.name} />
        <Field.HelperText>
          Its DAG is <Text as="span" fontFamily="mono">sync_{draft.name || "<name>"}</Text>; the file {draft.name || "<name>"}.yaml in sources_dir.
        </Field.HelperText>
        {nameError ? <Field.ErrorText>{nameError}</Field.ErrorText> : null}
      </Field.Root>
    </Stack>
  );
};
