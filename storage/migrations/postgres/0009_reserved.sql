-- Reserved for the campaigns branch (its migration 0009); the integrator
-- replaces this placeholder with it at merge.
SELECT 1;
