-- 006_resident_api.sql - what the residents' API beyond payments needs
-- (docs/resident-api.md). The notice.edit and ticket.handle permissions and
-- their grants (admin, service) are already seeded by 001, so only an index
-- is added here. Same conventions as 001: no semicolon inside comments or
-- strings.

-- Ticket creation is throttled per WeChat user over the last 24 hours
-- (cgi/api_ticket.c), and residents list their own tickets newest first:
-- both read this index instead of every ticket of the user.
ALTER TABLE ticket ADD KEY ticket_user_created_ix (wx_user_id, created_at);
