import { Badge, Button, HStack } from "@chakra-ui/react";

import { type Step, STEPS } from "./draft";

interface Props {
  step: Step;
  reachable: (step: Step) => boolean;
  onStep: (step: Step) => void;
}

/** Where the wizard is: every step by name, the current one marked, the reached ones clickable. */
export const StepBar = ({ step, reachable, onStep }: Props) => (
  <HStack as="ol" gap={1} listStyleType="none" wrap="wrap">
    {STEPS.map((s, i) => (
      <li key={s.step}>
        <Button
          aria-current={s.step === step ? "step" : undefined}
          disabled={!reachable(s.step)}
          onClick={() => onStep(s.step)}
          px={2}
          size="xs"
          variant={s.step === step ? "subtle" : "ghost"}
        >
          <Badge colorPalette={s.step === step ? "blue" : "gray"} size="sm" variant={s.step === step ? "solid" : "outline"}>
            {i + 1}
          </Badge>
          {s.label}
        </Button>
      </li>
    ))}
  </HStack>
);
