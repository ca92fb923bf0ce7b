import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> { data: T | undefined; error: string | undefined; refresh: () => void }

/** Fetch now and again every `intervalMs` (faster while something runs), so the page follows a sync. */
export const usePoll = <T,>(load: () => Promise<T>, intervalMs: number, key: string): Polled<T> => {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let alive = true;
    loadRef
      .current()
      .then((value) => {
        if (alive) {
          setData(value);
          setError(undefined);
        }
      })
      .catch((reason: unknown) => {
        if (alive) setError(reason instanceof Error ? reason.message : String(reason));
      });
    const timer = setTimeout(() => setTick((t) => t + 1), intervalMs);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [tick, intervalMs, key]);

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, refresh };
};
