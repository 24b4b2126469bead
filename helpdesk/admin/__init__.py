"""Administration in the browser: an admin sets up organisations, people, calendars and
contract terms on pages. It sits above the domains it sets up (accounts, contracts) and billing,
whose figures the what-if panels compare; the rules stay in those domains' services and in the
import's validation (contracts/schema.py), which the pages reuse."""
