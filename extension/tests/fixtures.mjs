// Shared test data: a policy document shaped like `GET /v1/policy`.
export const POLICY_DOC = {
  version: 'p-2024-1',
  platforms: [
    { id: 'emeeting-mic', name: 'eMeeting MIC', class: 'approved', domains: ['emeeting.mic.gov.vn'], schemes: [] },
    { id: 'vmeet', name: 'Vmeet', class: 'approved', domains: ['vmeet.moj.gov.vn'], schemes: [] },
    { id: 'zoom', name: 'Zoom', class: 'warned', domains: ['zoom.us', 'zoom.com'], schemes: ['zoommtg', 'zoomus'] },
    { id: 'teams', name: 'Microsoft Teams', class: 'warned', domains: ['teams.microsoft.com', 'teams.live.com'], schemes: ['msteams'] },
  ],
  organisation_domains: ['moj.gov.vn'],
  known_bad_domains: ['evil.example'],
  shorteners: ['bit.ly'],
  webmail_hosts: ['mail.moj.gov.vn'],
  fail_mode: 'open',
  click_through: { warned: true, unknown: true },
  override_ttl_seconds: 900,
  verdict_ttl_seconds: 300,
};

/** A verdict as the service sends it. */
export function serviceVerdict(url, fields = {}) {
  const host = new URL(url).hostname;
  return {
    id: '01JTEST', ttl: 300, url, target: url, host, display_host: host, domain: host,
    class: 'unknown', platform: null, action: 'allow', click_through: false,
    reasons: [{ code: 'unknown-origin', severity: 'info', message: 'Unknown origin' }],
    unwrapped: [], policy_version: 'p-2024-1', ...fields,
  };
}
