/** ServiceNow ITSM configuration: the same page over instance_url/username. */
import { ItsmConfiguration, type ItsmConfigurationProps } from "./ItsmConfiguration";

export default function ServiceNowItsmConfiguration(props: ItsmConfigurationProps) {
  return (
    <ItsmConfiguration
      {...props}
      spec={{ title: "config.titles.servicenowItsm", siteField: "instance_url", accountField: "username" }}
    />
  );
}
