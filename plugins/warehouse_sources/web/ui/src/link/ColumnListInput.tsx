import { Input } from "@chakra-ui/react";
import { useState } from "react";

interface Props {
  id: string;
  columns: string[];
  placeholder: string;
  onChange: (columns: string[]) => void;
}

const split = (text: string): string[] => text.split(",").map((s) => s.trim()).filter(Boolean);

/** Columns as "a, b": the text is kept as typed, so a comma on its way to the next name stays. */
export const ColumnListInput = ({ id, columns, placeholder, onChange }: Props) => {
  const [text, setText] = useState(columns.join(", "));
  const shown = split(text).join(",") === columns.join(",") ? text : columns.join(", ");
  return (
    <Input
      id={id}
      onChange={(e) => {
        setText(e.currentTarget.value);
        onChange(split(e.currentTarget.value));
      }}
      placeholder={placeholder}
      size="sm"
      value={shown}
    />
  );
};
