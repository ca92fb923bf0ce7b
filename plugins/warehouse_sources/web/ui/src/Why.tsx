import { Box } from "@chakra-ui/react";

export const BUSY_REASON = "A run is queued or running: wait for it to finish";

/** A disabled button's reason on hover (a disabled button gets no pointer events, its wrapper does). */
export const Why = ({ reason, children }: { reason: string | null; children: React.ReactNode }) => (
  <Box as="span" display="inline-flex" title={reason ?? undefined}>
    {children}
  </Box>
);
