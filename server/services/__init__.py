"""Services: the queries, rules and transactions behind every view, API route and command."""
