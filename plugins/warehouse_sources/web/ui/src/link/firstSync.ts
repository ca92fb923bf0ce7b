import { airflowRequest, api, ApiError } from "../api";
import { connectionsApi } from "./linkApi";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Until Airflow has loaded the DAG of a new source file (the DAG processor's refresh interval). */
export const waitForDag = async (dagId: string, alive: () => boolean): Promise<boolean> => {
  while (alive()) {
    try {
      await connectionsApi.dag(dagId);
      return true;
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    await sleep(2000);
  }
  return false;
};

const hasRun = async (dagId: string): Promise<boolean> =>
  (await airflowRequest<{ total_entries: number }>("GET", `dags/${encodeURIComponent(dagId)}/dagRuns?limit=1`)).total_entries > 0;

/** A new DAG is paused: unpause it (the scheduler then starts the due run at once) and, when no
 * run shows within a few seconds (a schedule not yet due), trigger one; a 409 means one started. */
export const startFirstSync = async (name: string, dagId: string): Promise<void> => {
  await api.pause(name, false);
  for (let i = 0; i < 4; i += 1) {
    if (await hasRun(dagId)) return;
    await sleep(1500);
  }
  await api.sync(name).catch((e: unknown) => {
    if (!(e instanceof ApiError && e.status === 409)) throw e;
  });
};
