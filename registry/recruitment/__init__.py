"""Recruitment and selection (issue 8): recruitment agencies, job orders (vacancies with their recruitment
terms and contract vetting), shortlists of registered job seekers, and the selection steps from referral to
departure, with a printed group list. The blueprint lives in `views` (imported by the app factory), so the
referral services can use this package's rules without importing its pages."""
