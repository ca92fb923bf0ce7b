import { List, Text } from "@chakra-ui/react";

import { METHOD_NOTE } from "./tableDefaults";
import { METHODS, type TableConfig } from "./types";

/** One sentence per method in use: what it costs and what it misses. */
export const MethodNotes = ({ tables }: { tables: TableConfig[] }) => {
  const used = METHODS.filter((m) => tables.some((t) => t.sync === m));
  if (!used.length) return <Text color="fg.muted" fontSize="sm">Choose the tables to sync.</Text>;
  return (
    <List.Root color="fg.muted" data-testid="method-notes" fontSize="sm" gap={1} ps={4}>
      {used.map((m) => (
        <List.Item key={m}>{METHOD_NOTE[m]}</List.Item>
      ))}
    </List.Root>
  );
};
