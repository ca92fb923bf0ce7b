import { Field, Input, Stack, Text } from "@chakra-ui/react";
import { useState } from "react";

import type { Draft } from "./draft";
import { MethodNotes } from "./MethodNotes";
import { SmallSelect } from "./SmallSelect";

interface Props {
  draft: Draft;
  errors: Record<string, string>;
  onChange: (patch: Partial<Draft>) => void;
}

const FREQUENCIES: [string, string][] = [
  ["5m", "every 5 minutes"],
  ["30m", "every 30 minutes"],
  ["1h", "hourly"],
  ["6h", "every 6 hours"],
  ["12h", "every 12 hours"],
  ["24h", "daily"],
  ["7d", "weekly"],
  ["30d", "every 30 days"],
];
const CRON = "cron";

/** Step 4: how often it syncs; then what will be saved and what each method costs. */
export const SaveStep = ({ draft, errors, onChange }: Props) => {
  const preset = FREQUENCIES.some(([v]) => v === draft.schedule);
  const [custom, setCustom] = useState(!preset);
  return (
    <Stack gap={4}>
      <Stack direction={{ base: "column", md: "row" }} gap={4}>
        <Field.Root invalid={Boolean(errors.schedule)}>
          <Field.Label htmlFor="frequency">Frequency</Field.Label>
          <SmallSelect
            id="frequency"
            onChange={(v) => {
              setCustom(v === CRON);
              if (v !== CRON) onChange({ schedule: v });
            }}
            value={custom ? CRON : draft.schedule}
          >
            {FREQUENCIES.map(([value, label]) => (
              <option key={value} value={value}>
                {label} ({value})
              </option>
            ))}
            <option value={CRON}>a cron string…</option>
          </SmallSelect>
          {errors.schedule && !custom ? <Field.ErrorText>{errors.schedule}</Field.ErrorText> : null}
        </Field.Root>
        {custom ? (
          <Field.Root invalid={Boolean(errors.schedule)}>
            <Field.Label htmlFor="cron">Cron string</Field.Label>
            <Input fontFamily="mono" id="cron" onChange={(e) => onChange({ schedule: e.currentTarget.value })} placeholder="0 3 * * *" size="sm" value={draft.schedule} />
            {errors.schedule ? <Field.ErrorText>{errors.schedule}</Field.ErrorText> : null}
          </Field.Root>
        ) : null}
      </Stack>
      <Text fontSize="sm">
        {draft.editing ? "Saving replaces" : "Saving writes"} <Text as="span" fontFamily="mono">{draft.name}.yaml</Text> with {draft.tables.length}{" "}
        {draft.tables.length === 1 ? "table" : "tables"} from connection <Text as="span" fontFamily="mono">{draft.connId}</Text>
        {draft.editing ? "." : "; Airflow then loads its DAG, unpauses it and starts the first sync."}
      </Text>
      <MethodNotes tables={draft.tables} />
    </Stack>
  );
};
