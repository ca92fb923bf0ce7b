import { Alert, Box, Button, Code } from "@chakra-ui/react";

const download = (name: string, yaml: string) => {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
  link.download = `${name}.yaml`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
};

/** sources_dir is not writable here (DAGs shipped in an image or from git): the file to commit by hand. */
export const ReadOnlyYaml = ({ name, yaml, message }: { name: string; yaml: string; message: string }) => (
  <Alert.Root data-testid="read-only" status="warning">
    <Alert.Indicator />
    <Alert.Content minW={0}>
      <Alert.Title>{message}</Alert.Title>
      <Alert.Description>Nothing was written. Add this file to your sources folder and deploy it:</Alert.Description>
      <Box maxH="16em" mt={2} overflow="auto">
        <Code as="pre" display="block" p={2} whiteSpace="pre">
          {yaml}
        </Code>
      </Box>
      <Button mt={2} onClick={() => download(name, yaml)} size="sm" variant="outline">
        Download {name}.yaml
      </Button>
    </Alert.Content>
  </Alert.Root>
);
