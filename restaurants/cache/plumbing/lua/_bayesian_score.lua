-- Included (not run alone): bayesian_score(stars, mean, weight), stars = counts from 5 stars down to 1; the one Lua copy of leaderboard.bayesian_score.
local function bayesian_score(stars, mean, weight)
  local total = 5 * stars[1] + 4 * stars[2] + 3 * stars[3] + 2 * stars[4] + stars[5]
  local count = stars[1] + stars[2] + stars[3] + stars[4] + stars[5]
  return (weight * mean + total) / (weight + count)
end
