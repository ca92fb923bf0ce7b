import { Alert } from "@chakra-ui/react";

import type { TestAnswer } from "./types";

/** What "Test connection" found: the server's own error text, secrets already stripped by the route. */
export const TestResult = ({ result }: { result: TestAnswer }) => (
  <Alert.Root data-testid="test-result" status={result.ok ? "success" : "error"}>
    <Alert.Indicator />
    <Alert.Content>
      <Alert.Title>{result.ok ? "Connected: the source answered and its tables can be read." : "The connection failed"}</Alert.Title>
      {result.ok ? null : <Alert.Description whiteSpace="pre-wrap" wordBreak="break-word">{result.error ?? "no message"}</Alert.Description>}
    </Alert.Content>
  </Alert.Root>
);
