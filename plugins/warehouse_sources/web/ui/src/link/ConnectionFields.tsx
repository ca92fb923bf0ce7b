import { Field, Input, SimpleGrid, Stack, Text } from "@chakra-ui/react";
import { useState } from "react";

import { fillFromString } from "./connString";
import { FieldInput } from "./FieldInput";
import type { KindInfo, Values } from "./types";

interface Props {
  kind: KindInfo;
  connId: string;
  values: Values;
  editing: boolean; // the connection exists: an empty secret keeps the saved one
  onConnId: (id: string) => void;
  onValues: (values: Values) => void;
}

const ATTR_LABELS: Record<string, string> = { host: "host", login: "user", password: "password", port: "port", schema: "database" };

/** A new or edited connection: the kind's declared fields, and a box that fills them from a pasted URL. */
export const ConnectionFields = ({ kind, connId, values, editing, onConnId, onValues }: Props) => {
  const [pasted, setPasted] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const paste = (text: string) => {
    const next = fillFromString(kind.fields, values, text);
    if (!next) {
      setPasted(text);
      setNote(text ? "Not a connection string yet: scheme://user:password@host:port/database" : null);
      return;
    }
    const filled = kind.fields.filter((f) => next[f.name] !== values[f.name]).map((f) => ATTR_LABELS[f.conn_attr || f.name] ?? f.label.toLowerCase());
    setPasted(""); // the string holds the password: it does not stay on screen
    setNote(`Filled ${filled.join(", ") || "nothing new"} from the connection string.`);
    onValues(next);
  };
  return (
    <Stack gap={4}>
      <SimpleGrid columns={{ base: 1, md: 2 }} gap={4}>
        <Field.Root disabled={editing} required>
          <Field.Label htmlFor="conn-id">
            Airflow connection id
            <Field.RequiredIndicator />
          </Field.Label>
          <Input id="conn-id" onChange={(e) => onConnId(e.currentTarget.value)} size="sm" value={connId} />
          <Field.HelperText>Credentials are kept in this Airflow connection, never in the source file.</Field.HelperText>
        </Field.Root>
        <Field.Root>
          <Field.Label htmlFor="conn-string">Paste a connection string</Field.Label>
          <Input
            autoComplete="off"
            fontFamily="mono"
            id="conn-string"
            onChange={(e) => paste(e.currentTarget.value)}
            placeholder={`${kind.conn_types[0]}://user:password@host:5432/database`}
            size="sm"
            value={pasted}
          />
          {note ? <Field.HelperText data-testid="paste-note">{note}</Field.HelperText> : <Field.HelperText>It fills the fields below.</Field.HelperText>}
        </Field.Root>
      </SimpleGrid>
      <SimpleGrid columns={{ base: 1, md: 2 }} gap={4}>
        {kind.fields.map((field) => (
          <FieldInput
            editing={editing}
            field={field}
            key={field.name}
            onChange={(value) => onValues({ ...values, [field.name]: value })}
            value={values[field.name] ?? ""}
          />
        ))}
      </SimpleGrid>
      {kind.fields.length === 0 ? <Text color="fg.muted">This kind needs no connection fields.</Text> : null}
    </Stack>
  );
};
