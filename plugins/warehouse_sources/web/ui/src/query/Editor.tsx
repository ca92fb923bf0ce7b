import { Box, Button, HStack, Textarea } from "@chakra-ui/react";
import { useMemo, useRef, useState } from "react";

import type { WarehouseTable } from "../api";

interface Props {
  value: string;
  tables: WarehouseTable[];
  onChange: (sql: string) => void;
  onRun: () => void;
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_SUGGESTIONS = 8;

/** The names a query can use: tables and views first, then their columns (`name · type`). */
const vocabulary = (tables: WarehouseTable[]): { name: string; hint: string }[] => {
  const seen = new Map<string, string>();
  for (const t of tables) seen.set(t.name, t.kind);
  for (const t of tables) for (const c of t.columns) if (!seen.has(c.name)) seen.set(c.name, `${c.type} · ${t.name}`);
  return [...seen].map(([name, hint]) => ({ hint, name }));
};

/** A plain textarea that completes table, view and column names: Tab or Enter takes the chosen
 * one, arrows move, Escape closes; Ctrl/Cmd+Enter runs the query. */
export const Editor = ({ value, tables, onChange, onRun }: Props) => {
  const area = useRef<HTMLTextAreaElement>(null);
  const [caret, setCaret] = useState(0);
  const [chosen, setChosen] = useState(0);
  const [closed, setClosed] = useState(false);
  const words = useMemo(() => vocabulary(tables), [tables]);
  const prefix = WORD.exec(value.slice(0, caret))?.[0] ?? "";
  const suggestions = closed || !prefix
    ? []
    : words.filter((w) => w.name.toLowerCase().startsWith(prefix.toLowerCase()) && w.name !== prefix).slice(0, MAX_SUGGESTIONS);

  const take = (name: string) => {
    const next = value.slice(0, caret - prefix.length) + name + value.slice(caret);
    const at = caret - prefix.length + name.length;
    onChange(next);
    setCaret(at);
    requestAnimationFrame(() => area.current?.setSelectionRange(at, at));
    area.current?.focus();
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      onRun();
    } else if (suggestions.length && (e.key === "Tab" || e.key === "Enter")) {
      e.preventDefault();
      take(suggestions[Math.min(chosen, suggestions.length - 1)].name);
    } else if (suggestions.length && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      setChosen((c) => (c + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length);
    } else if (e.key === "Escape") {
      setClosed(true);
    }
  };

  return (
    <Box position="relative">
      <Textarea
        aria-label="SQL"
        autoresize
        fontFamily="mono"
        fontSize="sm"
        minH="8em"
        onChange={(e) => {
          onChange(e.target.value);
          setCaret(e.target.selectionStart);
          setChosen(0);
          setClosed(false);
        }}
        onKeyDown={onKeyDown}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        placeholder="SELECT * FROM billing_charges LIMIT 100"
        ref={area}
        spellCheck={false}
        value={value}
      />
      {suggestions.length ? (
        <HStack aria-label="completions" gap={1} mt={1} role="listbox" wrap="wrap">
          {suggestions.map((s, i) => (
            <Button
              aria-selected={i === chosen}
              fontFamily="mono"
              key={s.name}
              onMouseDown={(e) => {
                e.preventDefault();
                take(s.name);
              }}
              role="option"
              size="2xs"
              title={s.hint}
              variant={i === chosen ? "solid" : "outline"}
            >
              {s.name}
            </Button>
          ))}
        </HStack>
      ) : null}
    </Box>
  );
};
