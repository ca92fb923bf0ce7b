import { Alert, Spinner } from "@chakra-ui/react";
import { useEffect, useState } from "react";

import { startFirstSync, waitForDag } from "./firstSync";
import type { SaveAnswer } from "./types";

interface Props {
  answer: SaveAnswer;
  onDone: (notice: string, name: string) => void;
}

/** After a new source is saved: "waiting for Airflow to load it", then its first sync starts. */
export const WaitForDag = ({ answer, onDone }: Props) => {
  const [seconds, setSeconds] = useState(0);
  const [phase, setPhase] = useState<"loading" | "starting">("loading");
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const started = Date.now();
    const clock = setInterval(() => setSeconds(Math.round((Date.now() - started) / 1000)), 1000);
    waitForDag(answer.dag_id, () => alive)
      .then(async (loaded) => {
        if (!loaded) return;
        setPhase("starting");
        await startFirstSync(answer.name, answer.dag_id);
        if (alive) onDone(`Linked ${answer.name} (${answer.file}): its first sync started.`, answer.name);
      })
      .catch((e: unknown) => alive && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      alive = false;
      clearInterval(clock);
    };
  }, [answer]); // eslint-disable-line react-hooks/exhaustive-deps

  if (error) return <Alert.Root status="error"><Alert.Indicator /><Alert.Title>Saved, but the first sync did not start: {error}</Alert.Title></Alert.Root>;
  return (
    <Alert.Root data-testid="waiting" status="info">
      <Spinner size="sm" />
      <Alert.Title>
        {phase === "loading"
          ? `Saved ${answer.file}. Waiting for Airflow to load it (${seconds} s; the DAG processor reads new files every few seconds)…`
          : `Airflow loaded ${answer.dag_id}: unpausing it and starting the first sync…`}
      </Alert.Title>
    </Alert.Root>
  );
};
