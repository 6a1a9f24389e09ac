"""Action, block and callback ids shared by the cards and the listeners that answer them."""

CHECKLIST_TICK = "checklist-tick:"  # + item key; value = incident id
CHECKLIST_UNTICK = "checklist-untick:"  # + item key; value = incident id
CHECKLIST_OLD_TOGGLE = "checklist:"  # cards posted by earlier versions: one toggle per item
ROLE_TAKE = "role-take:"  # + role key; value = incident id
ROLE_ASSIGN = "role-assign:"  # + role key (users_select); block_id carries the incident id
ACK_ESCALATION = "escalation-ack"
OPEN_UPDATE_MODAL = "update-open"
SNOOZE = "snooze:"  # + minutes
FOLLOWUP_DONE = "followup-done:"  # + follow-up id (action ids must differ within a message)

DECLARE_MODAL = "declare-modal"
UPDATE_MODAL = "update-modal"

# block ids / action ids inside the declare modal
TITLE_BLOCK, TITLE_INPUT = "title", "title-input"
SEVERITY_BLOCK, SEVERITY_INPUT = "severity", "severity-input"
DESCRIPTION_BLOCK, DESCRIPTION_INPUT = "description", "description-input"
OPTIONS_BLOCK, OPTIONS_INPUT = "options", "options-input"
UPDATE_BLOCK, UPDATE_INPUT = "update", "update-input"

# status-page drafts: value = draft id
STATUS_PUBLISH = "status-publish"
STATUS_SKIP = "status-skip"
STATUS_MODAL = "status-modal"
SP_NAME_BLOCK, SP_NAME_INPUT = "sp-name", "sp-name-input"
SP_BODY_BLOCK, SP_BODY_INPUT = "sp-body", "sp-body-input"
SP_STATUS_BLOCK, SP_STATUS_INPUT = "sp-status", "sp-status-input"
SP_IMPACT_BLOCK, SP_IMPACT_INPUT = "sp-impact", "sp-impact-input"
SP_COMPONENTS_BLOCK, SP_COMPONENTS_INPUT = "sp-components", "sp-components-input"

# hotfixes: action ids "hotfix:<decision>" (e.g. hotfix:pass:approval), value "<hotfix id>:<version>"
HOTFIX_DECIDE = "hotfix:"
HOTFIX_OPEN = "hotfix-open"  # the roles card's "Start a hotfix": value = incident id
HOTFIX_MODAL = "hotfix-modal"
HF_WHAT_BLOCK, HF_WHAT_INPUT = "hf-what", "hf-what-input"
HF_PR_BLOCK, HF_PR_INPUT = "hf-pr", "hf-pr-input"
HF_PLAN_BLOCK, HF_PLAN_INPUT = "hf-plan", "hf-plan-input"
HOTFIX_FAIL_MODAL = "hotfix-fail-modal"  # why a gate fails: private_metadata "<hotfix id>:<version>:<gate>"
HF_WHY_BLOCK, HF_WHY_INPUT = "hf-why", "hf-why-input"
