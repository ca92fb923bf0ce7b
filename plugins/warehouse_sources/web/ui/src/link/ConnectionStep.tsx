import { Button, Field, HStack, Input, NativeSelect, Stack, Text } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import { ApiError } from "../api";
import { ConnectionFields } from "./ConnectionFields";
import { connectionBody, valuesFromConnection } from "./connectionBody";
import { type Draft, tunnelOf, urlOf, withTunnel } from "./draft";
import { connectionsApi, linkApi } from "./linkApi";
import { TestResult } from "./TestResult";
import type { AirflowConnection, KindInfo, TestAnswer } from "./types";

interface Props {
  kind: KindInfo;
  draft: Draft;
  onChange: (patch: Partial<Draft>) => void;
}

type Mode = "new" | "existing";
const MODES: Record<Mode, string> = { existing: "Use an existing connection", new: "Enter the connection" };

const explain = (e: unknown, connId: string): string =>
  e instanceof ApiError && e.status === 409
    ? `Airflow already has a connection named ${connId}: choose "${MODES.existing}", or another id.`
    : e instanceof Error
      ? e.message
      : String(e);

/** Step 2: save the connection in Airflow (POST or PATCH /api/v2/connections), then test it for real. */
export const ConnectionStep = ({ kind, draft, onChange }: Props) => {
  const [mode, setMode] = useState<Mode>(draft.editing ? "existing" : "new");
  const [existing, setExisting] = useState<AirflowConnection[]>([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestAnswer | null>(null);

  useEffect(() => {
    connectionsApi.list().then(
      (answer) => setExisting(answer.connections.filter((c) => kind.conn_types.includes(c.conn_type))),
      () => setExisting([]), // a user who may not list connections can still enter one
    );
  }, [kind]);
  useEffect(() => {
    if (mode !== "new" || !draft.connExists || Object.keys(draft.values).length) return;
    connectionsApi.get(draft.connId).then((conn) => onChange({ values: valuesFromConnection(kind, conn) }), () => undefined);
  }, [mode]); // eslint-disable-line react-hooks/exhaustive-deps

  const saveAndTest = async () => {
    setBusy(true);
    setResult(null);
    try {
      if (mode === "new") {
        const body = connectionBody(kind, draft.connId, draft.values, draft.connExists);
        await (draft.connExists ? connectionsApi.update(draft.connId, body) : connectionsApi.create(body));
        onChange({ connExists: true });
      }
      setResult(await linkApi.test(draft.connId, kind.kind, tunnelOf(draft), urlOf(draft)));
    } catch (e) {
      setResult({ error: explain(e, draft.connId), ok: false });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack gap={4}>
      <HStack gap={2} role="radiogroup" wrap="wrap">
        {(["new", "existing"] as Mode[]).map((m) => (
          <Button aria-checked={mode === m} key={m} onClick={() => setMode(m)} role="radio" size="sm" variant={mode === m ? "subtle" : "ghost"}>
            {MODES[m]}
          </Button>
        ))}
      </HStack>
      {mode === "new" ? (
        <ConnectionFields
          connId={draft.connId}
          editing={draft.connExists}
          kind={kind}
          onConnId={(connId) => onChange({ connId })}
          onValues={(values) => onChange({ values })}
          values={draft.values}
        />
      ) : (
        <Field.Root>
          <Field.Label htmlFor="existing-conn">Airflow connection ({kind.conn_types.join(" or ")})</Field.Label>
          <NativeSelect.Root size="sm">
            <NativeSelect.Field id="existing-conn" onChange={(e) => onChange({ connExists: true, connId: e.currentTarget.value, values: {} })} value={draft.connExists ? draft.connId : ""}>
              <option value="">choose a connection</option>
              {existing.map((c) => (
                <option key={c.connection_id} value={c.connection_id}>
                  {c.connection_id} ({c.host ?? c.conn_type})
                </option>
              ))}
              {draft.connExists && !existing.some((c) => c.connection_id === draft.connId) ? <option value={draft.connId}>{draft.connId}</option> : null}
            </NativeSelect.Field>
            <NativeSelect.Indicator />
          </NativeSelect.Root>
          <Field.HelperText>Connections of this kind's type saved in Airflow (Admin › Connections).</Field.HelperText>
        </Field.Root>
      )}
      {kind.bucket ? (
        <Field.Root required>
          <Field.Label htmlFor="bucket-url">
            Bucket URL
            <Field.RequiredIndicator />
          </Field.Label>
          <Input fontFamily="mono" id="bucket-url" onChange={(e) => onChange({ rest: { ...draft.rest, url: e.currentTarget.value } })} placeholder="s3://bucket/prefix/ or file:///srv/exports/" size="sm" value={urlOf(draft) ?? ""} />
          <Field.HelperText>The folder the table patterns are relative to; the test lists it.</Field.HelperText>
        </Field.Root>
      ) : null}
      {kind.tunnel ? (
        <Field.Root>
          <Field.Label htmlFor="ssh-conn">SSH tunnel (optional)</Field.Label>
          <Input id="ssh-conn" onChange={(e) => onChange(withTunnel(draft, e.currentTarget.value))} placeholder="an Airflow SSH connection id" size="sm" value={tunnelOf(draft) ?? ""} />
          <Field.HelperText>For a database reachable only through a bastion host: its Airflow SSH connection.</Field.HelperText>
        </Field.Root>
      ) : null}
      <HStack gap={3} wrap="wrap">
        <Button disabled={busy || !draft.connId} loading={busy} onClick={() => void saveAndTest()} size="sm">
          {mode === "new" ? "Save and test connection" : "Test connection"}
        </Button>
        {draft.connExists && mode === "new" ? <Text color="fg.muted" fontSize="sm">Saved in Airflow as {draft.connId}</Text> : null}
      </HStack>
      {result ? <TestResult result={result} /> : null}
    </Stack>
  );
};
