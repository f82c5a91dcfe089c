// Who may call the staff API's routes that the portal shows or hides something for: the roles
// the API allows on each (each route declares them, sms_platform.staff.rights). The pages and
// what they offer are derived from this table, never from role lists of their own, and
// tests/unit/test_portal_rights.py holds it equal to the API's rights (the object below is JSON).

export const ROUTE_ROLES = {
  "GET /accounts": ["permission_admin"],
  "GET /audit/entries": ["auditor"],
  "GET /carriers": ["auditor", "it_ops"],
  "PUT /carriers/weights/{lane}": ["it_ops"],
  "POST /carriers/{carrier}/drain": ["it_ops"],
  "GET /contacts": ["city_operator", "city_reviewer", "district_operator", "phone_reveal"],
  "POST /contacts/imports": ["city_operator", "district_operator"],
  "POST /contacts/opt-outs": ["city_operator", "district_operator", "hotline_agent", "hotline_manager"],
  "POST /contacts/{ref}/reveal": ["phone_reveal"],
  "POST /follow-ups": ["city_operator", "district_operator"],
  "GET /forbidden-words": ["city_reviewer"],
  "GET /hotline/calls/waiting": ["hotline_agent", "hotline_manager"],
  "GET /hotline/entries": ["city_operator", "city_reviewer", "hotline_agent", "hotline_manager"],
  "POST /hotline/entries": ["city_operator"],
  "PUT /hotline/entries/{faq_id}/scope": ["hotline_manager"],
  "POST /message-lookup": ["hotline_agent", "hotline_manager", "it_ops"],
  "GET /number-blocks": ["city_operator", "district_operator"],
  "POST /number-blocks": ["city_operator", "district_operator"],
  "POST /number-blocks/release": ["city_operator", "district_operator"],
  "GET /number-checks": ["city_operator", "city_reviewer", "district_operator"],
  "GET /number-checks/counts": ["city_operator", "city_reviewer", "district_operator"],
  "POST /number-checks/{ref}/confirmation": ["city_operator", "district_operator"],
  "GET /operations/lanes": ["it_ops"],
  "POST /recipient-exports": ["auditor", "city_operator", "city_reviewer", "district_operator", "hotline_manager"],
  "GET /recipients/hotline": ["auditor", "city_reviewer", "hotline_manager"],
  "GET /recipients/item/{product_id}": ["auditor", "city_operator", "city_reviewer"],
  "GET /recipients/rule/{rule_id}": ["auditor", "city_operator", "city_reviewer"],
  "GET /recipients/send/{request_id}": ["auditor", "city_operator", "city_reviewer", "district_operator"],
  "GET /replies": ["city_operator", "city_reviewer", "hotline_agent", "hotline_manager"],
  "GET /reports/daily": ["auditor", "city_operator", "city_reviewer", "district_operator", "hotline_manager", "it_ops"],
  "GET /send-requests": ["auditor", "city_operator", "city_reviewer", "district_operator"],
  "POST /send-requests": ["city_operator", "district_operator"],
  "POST /send-requests/{request_id}/approval": ["city_reviewer"],
  "POST /send-requests/{request_id}/stop": ["city_reviewer"],
  "GET /subscription-items": ["city_operator", "city_reviewer"],
  "POST /subscription-items": ["city_operator"],
  "POST /subscription-items/{product_id}/approval": ["city_reviewer"],
  "POST /subscription-items/{product_id}/submission": ["city_operator"],
  "GET /template-reviews": ["city_reviewer"],
  "GET /templates": ["auditor", "city_operator", "city_reviewer", "district_operator", "hotline_manager", "it_ops"],
  "POST /templates": ["city_operator", "district_operator", "hotline_manager", "it_ops"],
  "GET /templates/{template_id}": ["auditor", "city_operator", "city_reviewer", "district_operator", "hotline_manager", "it_ops"],
  "GET /trigger-rules": ["city_operator", "city_reviewer"],
  "POST /trigger-rules": ["city_operator"],
  "POST /trigger-rules/{rule_id}/approval": ["city_reviewer"],
  "POST /trigger-rules/{rule_id}/submission": ["city_operator"]
};

// The roles the API allows on any of `routes` ("METHOD /path", as in ROUTE_ROLES).
export function rolesOf(...routes) {
  const roles = new Set();
  for (const route of routes) {
    if (!ROUTE_ROLES[route]) throw new Error(`rights.js does not list ${route}`);
    for (const role of ROUTE_ROLES[route]) roles.add(role);
  }
  return [...roles];
}

// Whether an account holding `roles` may call any of `routes`.
export function mayCall(roles, ...routes) {
  return rolesOf(...routes).some((role) => roles.includes(role));
}
