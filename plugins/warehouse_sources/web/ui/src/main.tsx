import { ChakraProvider, defaultSystem } from "@chakra-ui/react";

import { SourcesPage } from "./SourcesPage";

declare global {
  var ChakraUISystem: typeof defaultSystem | undefined;
}

/** The component Airflow's UI mounts for the "Sources" nav entry (react_apps). */
const PluginComponent = () => (
  // Airflow's own Chakra system, so the page has Airflow's theme, light and dark.
  <ChakraProvider value={globalThis.ChakraUISystem ?? defaultSystem}>
    <SourcesPage />
  </ChakraProvider>
);

export default PluginComponent;
