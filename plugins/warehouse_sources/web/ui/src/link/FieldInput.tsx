import { Checkbox, Field, Input, NativeSelect, Textarea } from "@chakra-ui/react";

import { isBoolean, isNumber } from "./connectionBody";
import type { FormField } from "./types";

interface Props {
  field: FormField;
  value: string | boolean;
  onChange: (value: string | boolean) => void;
  /** Editing a saved connection: an empty secret keeps the stored one. */
  editing: boolean;
  error?: string;
}

/** One input generated from a kind's declared field: a secret is a password input and never prefilled. */
export const FieldInput = ({ field, value, onChange, editing, error }: Props) => {
  const id = `field-${field.name}`;
  const text = typeof value === "string" ? value : "";
  const placeholder = field.secret && editing ? "unchanged (leave empty to keep the saved value)" : undefined;
  const input = isBoolean(field) ? (
    <Checkbox.Root checked={value === true} onCheckedChange={(e) => onChange(e.checked === true)} size="sm">
      <Checkbox.HiddenInput id={id} />
      <Checkbox.Control />
      <Checkbox.Label>{field.label}</Checkbox.Label>
    </Checkbox.Root>
  ) : field.type === "select" ? (
    <NativeSelect.Root size="sm">
      <NativeSelect.Field id={id} onChange={(e) => onChange(e.currentTarget.value)} value={text}>
        {field.required && text ? null : <option value="">{field.required ? "choose one" : "—"}</option>}
        {field.choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </NativeSelect.Field>
      <NativeSelect.Indicator />
    </NativeSelect.Root>
  ) : field.type === "textarea" ? (
    <Textarea autoComplete="off" fontFamily="mono" id={id} onChange={(e) => onChange(e.currentTarget.value)} placeholder={placeholder} rows={3} size="sm" value={text} />
  ) : (
    <Input
      autoComplete={field.secret ? "new-password" : "off"}
      id={id}
      inputMode={isNumber(field) ? "numeric" : undefined}
      onChange={(e) => onChange(e.currentTarget.value)}
      placeholder={placeholder}
      size="sm"
      type={field.secret || field.type === "password" ? "password" : "text"}
      value={text}
    />
  );
  return (
    <Field.Root invalid={Boolean(error)} required={field.required && !(field.secret && editing)}>
      {isBoolean(field) ? null : (
        <Field.Label htmlFor={id}>
          {field.label}
          <Field.RequiredIndicator />
        </Field.Label>
      )}
      {input}
      {field.help ? <Field.HelperText>{field.help}</Field.HelperText> : null}
      {error ? <Field.ErrorText>{error}</Field.ErrorText> : null}
    </Field.Root>
  );
};
