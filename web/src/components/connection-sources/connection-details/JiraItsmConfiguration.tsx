/** Jira ITSM configuration (seed: JiraItsmConfiguration). */
import { ItsmConfiguration, type ItsmConfigurationProps } from "./ItsmConfiguration";

export default function JiraItsmConfiguration(props: ItsmConfigurationProps) {
  return (
    <ItsmConfiguration
      {...props}
      spec={{ title: "config.titles.jiraItsm", siteField: "base_url", accountField: "email" }}
    />
  );
}
