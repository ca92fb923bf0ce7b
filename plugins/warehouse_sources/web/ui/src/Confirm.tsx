import { Alert, Button, HStack, List } from "@chakra-ui/react";

export interface ConfirmProps {
  title: string;
  items?: string[];
  action: string;
  onConfirm: () => void;
  onCancel: () => void;
}

/** An inline confirmation: says what will happen (every table a delete drops) before it does. */
export const Confirm = ({ title, items, action, onConfirm, onCancel }: ConfirmProps) => (
  <Alert.Root mt={3} role="alertdialog" status="warning">
    <Alert.Indicator />
    <Alert.Content>
      <Alert.Title>{title}</Alert.Title>
      {items?.length ? (
        <Alert.Description>
          <List.Root ps={4}>
            {items.map((item) => (
              <List.Item fontFamily="mono" key={item}>
                {item}
              </List.Item>
            ))}
          </List.Root>
        </Alert.Description>
      ) : null}
      <HStack mt={2}>
        <Button autoFocus colorPalette="red" onClick={onConfirm} size="sm">
          {action}
        </Button>
        <Button onClick={onCancel} size="sm" variant="outline">
          Cancel
        </Button>
      </HStack>
    </Alert.Content>
  </Alert.Root>
);
