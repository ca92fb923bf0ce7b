import { Alert, Box, Button, CloseButton, Heading, HStack, List, Spinner, Stack } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import { BucketTablesStep } from "./BucketTablesStep";
import { ConnectionStep } from "./ConnectionStep";
import { type Draft, draftFromConfig, NAME, newDraft, type Step, STEPS, sourceFromDraft, stepOf, urlOf } from "./draft";
import { KindStep } from "./KindStep";
import { linkApi } from "./linkApi";
import { ReadOnlyYaml } from "./ReadOnlyYaml";
import { type SaveFailure, saveFailure } from "./saveError";
import { SaveStep } from "./SaveStep";
import { StepBar } from "./StepBar";
import { TablesStep } from "./TablesStep";
import type { KindInfo, SaveAnswer } from "./types";
import { WaitForDag } from "./WaitForDag";

interface Props {
  editing: string | null; // a source's name: edit it; null: link a new one
  onClose: () => void;
  onDone: (notice: string, name: string) => void;
}

const order = (step: Step): number => STEPS.findIndex((s) => s.step === step);

const savedNotice = (answer: SaveAnswer): string =>
  `Saved ${answer.file}.` + (answer.resync ? ` The change invalidates stored state: the next run resyncs ${answer.resync_tables?.join(", ") || "the changed tables"}.` : "");

/** The "Link a source" wizard (issue 19): kind, connection, tables, frequency; the same form edits a source. */
export const LinkWizard = ({ editing, onClose, onDone }: Props) => {
  const [kinds, setKinds] = useState<KindInfo[] | null>(null);
  const [draft, setDraft] = useState<Draft>(newDraft);
  const [step, setStep] = useState<Step>("kind");
  const [failure, setFailure] = useState<SaveFailure | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<SaveAnswer | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    const failed = (e: unknown) => setLoadError(e instanceof Error ? e.message : String(e));
    linkApi.kinds().then((answer) => setKinds(answer.kinds), failed);
    if (editing)
      linkApi.config(editing).then((answer) => {
        setDraft(draftFromConfig(answer.source));
        setStep("tables");
      }, failed);
  }, [editing]);

  const kind = kinds?.find((k) => k.kind === draft.kind);
  const change = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const ready: Record<Step, boolean> = {
    connection: Boolean(kind) && NAME.test(draft.name),
    kind: true,
    save: draft.connExists && draft.tables.length > 0,
    tables: Boolean(kind) && NAME.test(draft.name) && draft.connExists && (!kind?.bucket || urlOf(draft) !== null),
  };
  const next = STEPS[order(step) + 1]?.step;

  const save = async () => {
    setSaving(true);
    setFailure(null);
    try {
      const source = sourceFromDraft(draft);
      const answer = draft.editing ? await linkApi.update(draft.editing, source) : await linkApi.create(source);
      if (draft.editing) onDone(savedNotice(answer), answer.name);
      else setSaved(answer);
    } catch (e) {
      const found = saveFailure(e);
      setFailure(found);
      const places = Object.keys(found.fields);
      if (places.length) setStep(places.map(stepOf).sort((a, b) => order(a) - order(b))[0]);
    } finally {
      setSaving(false);
    }
  };

  const errors = failure?.fields ?? {};
  return (
    <Box borderRadius="md" borderWidth="1px" data-testid="link-wizard" mb={4} p={{ base: 3, md: 4 }}>
      <HStack justify="space-between" mb={2}>
        <Heading size="md">{editing ? `Edit ${editing}` : "Link a source"}</Heading>
        <CloseButton aria-label="Close the form" onClick={onClose} size="sm" />
      </HStack>
      {loadError ? <Alert.Root status="error"><Alert.Indicator /><Alert.Title>{loadError}</Alert.Title></Alert.Root> : null}
      {!kinds || (editing && !draft.editing) ? (
        loadError ? null : <Spinner />
      ) : (
        <Stack gap={4}>
          <StepBar onStep={setStep} reachable={(s) => !saved && ready[s]} step={step} />
          {step === "kind" ? <KindStep draft={draft} errors={errors} kinds={kinds} onChange={change} /> : null}
          {step === "connection" && kind ? <ConnectionStep draft={draft} kind={kind} onChange={change} /> : null}
          {step === "tables" && kind?.bucket ? <BucketTablesStep draft={draft} errors={errors} onChange={change} /> : null}
          {step === "tables" && kind && !kind.bucket ? <TablesStep draft={draft} errors={errors} onChange={change} /> : null}
          {step === "save" ? <SaveStep draft={draft} errors={errors} onChange={change} /> : null}
          {failure && !failure.yaml ? (
            <Alert.Root data-testid="save-error" status="error">
              <Alert.Indicator />
              <Alert.Content>
                <Alert.Title>{failure.message}</Alert.Title>
                <List.Root fontSize="sm" ps={4}>
                  {Object.entries(failure.fields).map(([place, msg]) => (
                    <List.Item key={place}>{place}: {msg}</List.Item>
                  ))}
                </List.Root>
              </Alert.Content>
            </Alert.Root>
          ) : null}
          {failure?.yaml ? <ReadOnlyYaml message={failure.message} name={draft.name} yaml={failure.yaml} /> : null}
          {saved ? <WaitForDag answer={saved} onDone={onDone} /> : null}
          <HStack justify="space-between">
            <Button disabled={order(step) === 0 || saving || saved !== null} onClick={() => setStep(STEPS[order(step) - 1].step)} size="sm" variant="outline">
              Back
            </Button>
            {next ? (
              <Button disabled={!ready[next]} onClick={() => setStep(next)} size="sm">
                Next
              </Button>
            ) : (
              <Button disabled={!ready.save || saved !== null} loading={saving} onClick={() => void save()} size="sm">
                {editing ? "Save changes" : "Save and start syncing"}
              </Button>
            )}
          </HStack>
        </Stack>
      )}
    </Box>
  );
};
