export { default as JiraForm } from "./JiraForm";
export { default as ServiceNowForm } from "./ServiceNowForm";
