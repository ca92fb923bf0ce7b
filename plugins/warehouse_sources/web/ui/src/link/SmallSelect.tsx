import { NativeSelect } from "@chakra-ui/react";

interface Props {
  id: string;
  value: string;
  onChange: (value: string) => void;
  children: React.ReactNode;
  disabled?: boolean;
}

/** The native select the form uses everywhere (keyboard and phone friendly), sized as the inputs. */
export const SmallSelect = ({ id, value, onChange, children, disabled }: Props) => (
  <NativeSelect.Root disabled={disabled} size="sm">
    <NativeSelect.Field id={id} onChange={(e) => onChange(e.currentTarget.value)} value={value}>
      {children}
    </NativeSelect.Field>
    <NativeSelect.Indicator />
  </NativeSelect.Root>
);
